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

const MAX_QUERY_LENGTH = 2000;
const MAX_DEPTH = 20;

function invalid(message: string): BadRequest {
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
  if (q.length > MAX_QUERY_LENGTH) throw invalid('query is too long');
  const tokens = tokenize(q);
  if (tokens.length === 0) throw invalid('query is empty');
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];

  const parseOr = (depth: number): SearchNode => {
    if (depth > MAX_DEPTH) throw invalid('query nests too deeply');
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
      return { kind: 'not', child: parseUnary(depth) };
    }
    return parsePrimary(depth);
  };
  const parsePrimary = (depth: number): SearchNode => {
    const t = tokens[pos++];
    if (t === undefined) throw invalid('unexpected end of query');
    switch (t.type) {
      case 'lparen': {
        const inner = parseOr(depth + 1);
        if (tokens[pos++]?.type !== 'rparen') throw invalid('missing )');
        return inner;
      }
      case 'field':
        return parseFieldValue(t.name);
      case 'word':
        return wordNode(undefined, t.text);
      case 'phrase':
        return { kind: 'term', field: undefined, value: t.text, phrase: true };
      case 'rparen':
        throw invalid('unexpected )');
      case 'range':
        throw invalid('a range needs a field');
      case 'op':
        throw invalid(`unexpected ${t.op}`);
    }
  };
  const parseFieldValue = (field: string): SearchNode => {
    const t = tokens[pos++];
    if (t === undefined) throw invalid(`missing value for ${field}`);
    if (field === '_exists_') {
      if (t.type !== 'word') throw invalid('_exists_ needs a field name');
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
    throw invalid(`unexpected token after ${field}:`);
  };

  const root = parseOr(0);
  if (pos < tokens.length) throw invalid('unbalanced )');
  return root;
}

function wordNode(field: string | undefined, text: string): SearchNode {
  const star = text.indexOf('*');
  if (star === -1) return { kind: 'term', field, value: text, phrase: false };
  if (star !== text.length - 1 || text.slice(0, -1).includes('*') || text.includes('?')) {
    throw invalid('only trailing wildcards are supported');
  }
  // Auth0 compat: a wildcard needs at least 3 characters before it.
  if (text.length - 1 < 3) throw invalid('a wildcard needs at least 3 characters before *');
  return { kind: 'prefix', field, prefix: text.slice(0, -1) };
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
      if (close === -1) throw invalid('unterminated range');
      const body = q.slice(i + 1, i + close);
      const match = /^\s*(\S+)\s+TO\s+(\S+)\s*$/.exec(body);
      if (!match) throw invalid('a range is written [from TO to]');
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
        if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(text)) throw invalid(`bad field name "${text}"`);
        tokens.push({ type: 'field', name: text });
        i = j + 1;
      } else if (text === 'AND' || text === 'OR' || text === 'NOT') {
        tokens.push({ type: 'op', op: text });
        i = j;
      } else {
        if (text === '') throw invalid(`unexpected character "${q.charAt(j)}"`);
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
  throw invalid('unterminated "');
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function stripQuotes(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}
