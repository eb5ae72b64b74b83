interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

/**
 * True when the Accept header ranks application/json above text/html (RFC 9110 §12.5.1, the most
 * specific matching range decides each one's quality). A tie, or no header, means the HTML page.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const ranges = accept.split(',').flatMap(parseRange);
  return quality(ranges, 'application', 'json') > quality(ranges, 'text', 'html');
}

function parseRange(text: string): MediaRange[] {
  const [range = '', ...params] = text.split(';').map((part) => part.trim().toLowerCase());
  const [type, subtype] = range.split('/');
  if (!type || !subtype) return [];
  const qParam = params.find((p) => p.startsWith('q='));
  const q = qParam === undefined ? 1 : Number(qParam.slice(2));
  return Number.isFinite(q) && q >= 0 && q <= 1 ? [{ type, subtype, q }] : [];
}

function quality(ranges: readonly MediaRange[], type: string, subtype: string): number {
  const specificity = (r: MediaRange) =>
    r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : 0;
  const matching = ranges.filter(
    (r) => (r.type === type || r.type === '*') && (r.subtype === subtype || r.subtype === '*'),
  );
  const best = Math.max(-1, ...matching.map(specificity));
  return best < 0 ? 0 : Math.max(...matching.filter((r) => specificity(r) === best).map((r) => r.q));
}
