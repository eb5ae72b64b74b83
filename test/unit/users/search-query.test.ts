import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../../src/users/search-query.js';

describe('parseSearchQuery (Lucene subset of Auth0 search v3)', () => {
  it.each([
    ['email:"jane@example.com"', { kind: 'term', field: 'email', value: 'jane@example.com', phrase: true }],
    ['name:jane', { kind: 'term', field: 'name', value: 'jane', phrase: false }],
    ['jane', { kind: 'term', field: undefined, value: 'jane', phrase: false }],
    ['email:jan*', { kind: 'prefix', field: 'email', prefix: 'jan' }],
    ['name:*usa', { kind: 'suffix', field: 'name', suffix: 'usa' }],
    ['_exists_:user_metadata.plan', { kind: 'exists', field: 'user_metadata.plan' }],
    [
      'logins_count:[10 TO 100}',
      {
        kind: 'range',
        field: 'logins_count',
        from: '10',
        to: '100',
        fromInclusive: true,
        toInclusive: false,
      },
    ],
    [
      'last_login:[* TO 2024-12-31]',
      {
        kind: 'range',
        field: 'last_login',
        from: undefined,
        to: '2024-12-31',
        fromInclusive: true,
        toInclusive: true,
      },
    ],
    [
      'name:a AND NOT email:"b@c.d"',
      {
        kind: 'and',
        children: [
          { kind: 'term', field: 'name', value: 'a', phrase: false },
          { kind: 'not', child: { kind: 'term', field: 'email', value: 'b@c.d', phrase: true } },
        ],
      },
    ],
    [
      'name:a OR (name:b AND blocked:true)',
      {
        kind: 'or',
        children: [
          { kind: 'term', field: 'name', value: 'a', phrase: false },
          {
            kind: 'and',
            children: [
              { kind: 'term', field: 'name', value: 'b', phrase: false },
              { kind: 'term', field: 'blocked', value: 'true', phrase: false },
            ],
          },
        ],
      },
    ],
    [
      'name:a name:b',
      {
        kind: 'or',
        children: [
          { kind: 'term', field: 'name', value: 'a', phrase: false },
          { kind: 'term', field: 'name', value: 'b', phrase: false },
        ],
      },
    ],
    ['user_id:auth0\\|abc', { kind: 'term', field: 'user_id', value: 'auth0|abc', phrase: false }],
    ['nickname:who?', { kind: 'term', field: 'nickname', value: 'who?', phrase: false }],
  ])('parses %s', (q, ast) => {
    expect(parseSearchQuery(q)).toEqual(ast);
  });

  it.each([
    ['', 'query is empty'],
    ['name:"unterminated', 'unterminated "'],
    ['(name:a', 'missing )'],
    ['name:a)', 'unbalanced )'],
    ['email:j*', 'at least 3 characters before *'],
    ['name:*sa', 'at least 3 characters after *'],
    ['name:*ohn*', 'a wildcard is one * at the start or at the end of a word'],
    ['name:jo*hn', 'a wildcard is one * at the start or at the end of a word'],
    ['logins_count:[1 2]', 'a range is written'],
    ['AND', 'unexpected AND'],
    ['bad-field!:x', 'bad field name'],
  ])('refuses %j with a clear message', (q, why) => {
    expect(() => parseSearchQuery(q)).toThrow(why);
  });

  const words = (n: number, word = (i: number) => `w${String(i)}`) =>
    Array.from({ length: n }, (_, i) => word(i)).join(' ');
  const fields = [
    'email',
    'name',
    'username',
    'given_name',
    'family_name',
    'nickname',
    'user_id',
    'phone_number',
    'last_ip',
    'picture',
    'email_verified',
    'phone_verified',
    'blocked',
    'email.domain',
    'identities.connection',
    'identities.provider',
    'identities.user_id',
    'user_metadata.a',
    'app_metadata.b',
    'user_metadata.c',
  ];

  it.each([
    [
      'is at most 2000 characters long',
      `name:"${'x'.repeat(1993)}"`,
      `name:"${'x'.repeat(1994)}"`,
      'the query is longer than 2000 characters',
    ],
    ['has at most 50 terms', words(50), words(51), 'the query has more than 50 terms'],
    [
      'nests at most 10 levels deep',
      `${'('.repeat(10)}a${')'.repeat(10)}`,
      `${'('.repeat(11)}a${')'.repeat(11)}`,
      'the query nests more than 10 levels deep (parentheses and NOT)',
    ],
    [
      'counts NOT as a level',
      `${'NOT '.repeat(10)}a`,
      `${'NOT '.repeat(11)}a`,
      'the query nests more than 10 levels deep (parentheses and NOT)',
    ],
    [
      'has at most 10 wildcards',
      words(10, (i) => `abc${String(i)}*`),
      words(11, (i) => `abc${String(i)}*`),
      'the query has more than 10 wildcards',
    ],
    [
      'leads at most 2 wildcards',
      'name:*abc OR email:*xyz',
      'name:*abc OR email:*xyz OR nickname:*def',
      'the query has more than 2 leading wildcards',
    ],
    [
      'names at most 20 fields',
      fields.map((f) => `${f}:x`).join(' '),
      `${fields.map((f) => `${f}:x`).join(' ')} y`,
      'the query names more than 20 fields',
    ],
    [
      'follows metadata at most 5 levels down',
      'user_metadata.a.b.c.d.e:x',
      'user_metadata.a.b.c.d.e.f:x',
      'a metadata path has more than 5 levels',
    ],
  ])('bounds what a query may cost: it %s', (_what, within, over, why) => {
    expect(() => parseSearchQuery(within)).not.toThrow();
    expect(() => parseSearchQuery(over)).toThrow(
      `Query validation error: 'invalid query: ${why}' on property q.`,
    );
  });

  it('refuses the 500-word query of the availability review (issue 9)', () => {
    const q = words(
      500,
      (i) => String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + ((i * 7) % 26)),
    );
    expect(q).toHaveLength(1499);
    expect(() => parseSearchQuery(q)).toThrow(
      "Query validation error: 'invalid query: the query has more than 50 terms' on property q.",
    );
  });
});
