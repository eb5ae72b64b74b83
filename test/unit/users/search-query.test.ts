import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../../src/users/search-query.js';

describe('parseSearchQuery (Lucene subset of Auth0 search v3)', () => {
  it.each([
    ['email:"jane@example.com"', { kind: 'term', field: 'email', value: 'jane@example.com', phrase: true }],
    ['name:jane', { kind: 'term', field: 'name', value: 'jane', phrase: false }],
    ['jane', { kind: 'term', field: undefined, value: 'jane', phrase: false }],
    ['email:jan*', { kind: 'prefix', field: 'email', prefix: 'jan' }],
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
  ])('parses %s', (q, ast) => {
    expect(parseSearchQuery(q)).toEqual(ast);
  });

  it.each([
    ['', 'query is empty'],
    ['name:"unterminated', 'unterminated "'],
    ['(name:a', 'missing )'],
    ['name:a)', 'unbalanced )'],
    ['email:j*', 'at least 3 characters'],
    ['email:*son', 'only trailing wildcards'],
    ['logins_count:[1 2]', 'a range is written'],
    ['AND', 'unexpected AND'],
    ['bad-field!:x', 'bad field name'],
    ['('.repeat(30) + 'a' + ')'.repeat(30), 'nests too deeply'],
  ])('refuses %j with a clear message', (q, why) => {
    expect(() => parseSearchQuery(q)).toThrow(why);
  });
});
