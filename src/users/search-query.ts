import { BadRequest } from '../errors/api.js';

/** A parsed user-search query (the subset of Lucene that Auth0's search engine v3 documents). */
export type SearchNode =
  | { readonly kind: 'and' | 'or'; readonly children: readonly SearchNode[] }
  | { readonly kind: 'not'; readonly child: SearchNode }
  | {
      readonly kind: 'term';
      readonly field: string | undefined;
      readonly value: string;
      readonly phrase: boolean;
    }
  | { readonly kind: 'prefix'; readonly field: string | undefined; readonly prefix: string }
  | { readonly kind: 'suffix'; readonly field: string | undefined; readonly suffix: string }
  | { readonly kind: 'exists'; readonly field: string }
  | {
      readonly kind: 'range';
      readonly field: string;
      readonly from: string | undefined;
      readonly to: string | undefined;
      readonly fromInclusive: boolean;
      readonly toInclusive: boolean;
    };

type Token =
  | { type: 'word'; text: string }
  | { type: 'phrase'; text: string }
  | { type: 'field'; name: string }
  | { type: 'range'; from: string; to: string; fromInclusive: boolean; toInclusive: boolean }
  | { type: 'op'; op: 'AND' | 'OR' | 'NOT' }
  | { type: 'lparen' }
  | { type: 'rparen' };

/**
 * What one search may cost. Auth0 documents no numbers besides its 2 s timeout and 1000-result window, only
 * advice (few wildcards, none leading); every term here can mean a scan of the tenant's users, so the limits
 * keep a query to what a person writes, and the storage's deadline cuts whatever still runs long.
 */
export const SEARCH_LIMITS = {
  /** Characters of `q`. */
  length: 2000,
  /** Terms (a word, phrase, wildcard, range or `_exists_`) in the whole query. */
  terms: 50,
  /** Distinct fields named, a term without a field counting as one more. */
  fields: 20,
  wildcards: 10,
  /** Of the wildcards, those that lead (`*son`): no index can serve them, on any engine. */
  leadingWildcards: 2,
  /** Nested parentheses and NOTs. */
  depth: 10,
  /** Segments of a metadata path (`user_metadata.a.b` has two). */
  metadataPath: 5,
} as const;

/** Auth0's answer to a query it cannot run, for the parser and the storage compilers alike. */
export function invalidQuery(message: string): BadRequest {
  return new BadRequest(
    'invalid_query_string',
    `Query validation error: 'invalid query: ${message}' on property q.`,
  );
}

/**
 * Parses `q`; terms without an operator are joined with OR, as in Lucene.
 * @throws BadRequest invalid_query_string with the reason.
 */
export function parseSearchQuery(q: string): SearchNode {
  if (q.length > SEARCH_LIMITS.length)
    throw invalidQuery(`the query is longer than ${SEARCH_LIMITS.length} characters`);
  const tokens = tokenize(q);
  if (tokens.length === 0) throw invalidQuery('query is empty');
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const tooDeep = (depth: number) => {
    if (depth > SEARCH_LIMITS.depth)
      throw invalidQuery(
        `the query nests more than ${SEARCH_LIMITS.depth} levels deep (parentheses and NOT)`,
      );
  };

  const parseOr = (depth: number): SearchNode => {
    tooDeep(depth);
    const children = [parseAnd(depth)];
    for (;;) {
      const t = peek();
      if (t === undefined || t.type === 'rparen') break;
      if (t.type === 'op' && t.op === 'OR') pos += 1;
      children.push(parseAnd(depth));
    }
    return children.length === 1 ? (children[0] as SearchNode) : { kind: 'or', children };
  };
  const parseAnd = (depth: number): SearchNode => {
    const children = [parseUnary(depth)];
    while (peek()?.type === 'op' && (peek() as { op: string }).op === 'AND') {
      pos += 1;
      children.push(parseUnary(depth));
    }
    return children.length === 1 ? (children[0] as SearchNode) : { kind: 'and', children };
  };
  const parseUnary = (depth: number): SearchNode => {
    const t = peek();
    if (t?.type === 'op' && t.op === 'NOT') {
      pos += 1;
      tooDeep(depth + 1);
      return { kind: 'not', child: parseUnary(depth + 1) };
    }
    return parsePrimary(depth);
  };
  const parsePrimary = (depth: number): SearchNode => {
    const t = tokens[pos++];
    if (t === undefined) throw invalidQuery('unexpected end of query');
    switch (t.type) {
      case 'lparen': {
        const inner = parseOr(depth + 1);
        if (tokens[pos++]?.type !== 'rparen') throw invalidQuery('missing )');
        return inner;
      }
      case 'field':
        return parseFieldValue(t.name);
      case 'word':
        return wordNode(undefined, t.text);
      case 'phrase':
        return { kind: 'term', field: undefined, value: t.text, phrase: true };
      case 'rparen':
        throw invalidQuery('unexpected )');
      case 'range':
        throw invalidQuery('a range needs a field');
      case 'op':
        throw invalidQuery(`unexpected ${t.op}`);
    }
  };
  const parseFieldValue = (field: string): SearchNode => {
    const t = tokens[pos++];
    if (t === undefined) throw invalidQuery(`missing value for ${field}`);
    if (field === '_exists_') {
      if (t.type !== 'word') throw invalidQuery('_exists_ needs a field name');
      return { kind: 'exists', field: t.text };
    }
    if (t.type === 'word') return wordNode(field, t.text);
    if (t.type === 'phrase') return { kind: 'term', field, value: t.text, phrase: true };
    if (t.type === 'range') {
      return {
        kind: 'range',
        field,
        from: t.from === '*' ? undefined : t.from,
        to: t.to === '*' ? undefined : t.to,
        fromInclusive: t.fromInclusive,
        toInclusive: t.toInclusive,
      };
    }
    throw invalidQuery(`unexpected token after ${field}:`);
  };

  const root = parseOr(0);
  if (pos < tokens.length) throw invalidQuery('unbalanced )');
  assertWithinLimits(root);
  return root;
}

function assertWithinLimits(root: SearchNode): void {
  let terms = 0;
  let wildcards = 0;
  let leading = 0;
  const fields = new Set<string | undefined>();
  const visit = (node: SearchNode): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        node.children.forEach(visit);
        return;
      case 'not':
        visit(node.child);
        return;
      case 'suffix':
        leading += 1;
        wildcards += 1;
        break;
      case 'prefix':
        wildcards += 1;
        break;
      case 'term':
      case 'exists':
      case 'range':
        break;
    }
    terms += 1;
    fields.add(node.field);
    const path = node.field ?? '';
    if (/^(user|app)_metadata\./.test(path) && path.split('.').length - 1 > SEARCH_LIMITS.metadataPath)
      throw invalidQuery(`a metadata path has more than ${SEARCH_LIMITS.metadataPath} levels`);
  };
  visit(root);
  if (terms > SEARCH_LIMITS.terms) throw invalidQuery(`the query has more than ${SEARCH_LIMITS.terms} terms`);
  if (fields.size > SEARCH_LIMITS.fields)
    throw invalidQuery(`the query names more than ${SEARCH_LIMITS.fields} fields`);
  if (wildcards > SEARCH_LIMITS.wildcards)
    throw invalidQuery(`the query has more than ${SEARCH_LIMITS.wildcards} wildcards`);
  if (leading > SEARCH_LIMITS.leadingWildcards)
    throw invalidQuery(`the query has more than ${SEARCH_LIMITS.leadingWildcards} leading wildcards`);
}

function wordNode(field: string | undefined, text: string): SearchNode {
  if (!text.includes('*')) return { kind: 'term', field, value: text, phrase: false };
  const literal = text.replace(/^\*|\*$/g, '');
  if (literal.includes('*') || literal.includes('?') || literal.length === text.length - 2) {
    throw invalidQuery('a wildcard is one * at the start or at the end of a word');
  }
  if (text.endsWith('*')) {
    // Stricter than Auth0, which takes `name:j*`: so short a prefix matches a large share of the users.
    if (literal.length < 3) throw invalidQuery('a wildcard needs at least 3 characters before *');
    return { kind: 'prefix', field, prefix: literal };
  }
  // Auth0 compat: a suffix search (`name:*usa`) needs at least 3 characters after the *.
  if (literal.length < 3) throw invalidQuery('a leading wildcard needs at least 3 characters after *');
  return { kind: 'suffix', field, suffix: literal };
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(') {
      tokens.push({ type: 'lparen' });
      i += 1;
    } else if (c === ')') {
      tokens.push({ type: 'rparen' });
      i += 1;
    } else if (c === '"') {
      const end = findClosingQuote(q, i + 1);
      tokens.push({ type: 'phrase', text: unescape(q.slice(i + 1, end)) });
      i = end + 1;
    } else if (c === '[' || c === '{') {
      const close = q.slice(i).search(/[\]}]/);
      if (close === -1) throw invalidQuery('unterminated range');
      const body = q.slice(i + 1, i + close);
      const match = /^\s*(\S+)\s+TO\s+(\S+)\s*$/.exec(body);
      if (!match) throw invalidQuery('a range is written [from TO to]');
      tokens.push({
        type: 'range',
        from: stripQuotes(match[1] ?? '*'),
        to: stripQuotes(match[2] ?? '*'),
        fromInclusive: c === '[',
        toInclusive: q.charAt(i + close) === ']',
      });
      i += close + 1;
    } else {
      let j = i;
      let text = '';
      while (j < q.length && !/[\s()"]/.test(q.charAt(j))) {
        if (q.charAt(j) === '\\' && j + 1 < q.length) {
          text += q.charAt(j + 1);
          j += 2;
          continue;
        }
        if (q.charAt(j) === ':') break;
        text += q.charAt(j);
        j += 1;
      }
      if (q.charAt(j) === ':') {
        if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(text)) throw invalidQuery(`bad field name "${text}"`);
        tokens.push({ type: 'field', name: text });
        i = j + 1;
      } else if (text === 'AND' || text === 'OR' || text === 'NOT') {
        tokens.push({ type: 'op', op: text });
        i = j;
      } else {
        if (text === '') throw invalidQuery(`unexpected character "${q.charAt(j)}"`);
        tokens.push({ type: 'word', text });
        i = j;
      }
    }
  }
  return tokens;
}

function findClosingQuote(q: string, from: number): number {
  for (let i = from; i < q.length; i += 1) {
    if (q.charAt(i) === '\\') i += 1;
    else if (q.charAt(i) === '"') return i;
  }
  throw invalidQuery('unterminated "');
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function stripQuotes(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}
