import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The name=value pairs of a response's Set-Cookie headers. */
export function setCookies(res: LightMyRequestResponse): Record<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return Object.fromEntries(
    list.map((line) => {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/** The raw Set-Cookie line for one cookie name. */
export function setCookieLine(res: LightMyRequestResponse, name: string): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.find((line) => line.startsWith(`${name}=`));
}

/** A browser's cookie jar, kept by hand: what a response sets, the next request sends. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: LightMyRequestResponse | Response): void {
    const lines =
      res instanceof Response
        ? res.headers.getSetCookie()
        : ((raw) => (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]))(res.headers['set-cookie']);
    for (const line of lines) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  delete(name: string): void {
    this.cookies.delete(name);
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The hidden inputs of an HTML form (values unescaped). */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1] ?? ''] = unescapeHtml(m[2] ?? '');
  }
  return out;
}

export function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** GET /authorize with `params`, sending the jar's cookies and keeping what it sets. */
export async function authorize(
  app: FastifyInstance,
  params: Record<string, string>,
  jar: CookieJar,
): Promise<LightMyRequestResponse> {
  const res = await app.inject({
    method: 'GET',
    url: `/authorize?${new URLSearchParams(params).toString()}`,
    headers: { cookie: jar.header() },
  });
  jar.take(res);
  return res;
}

/** Follows the redirect to the login page and posts the credentials from the page's own form. */
export async function loginThroughPage(
  app: FastifyInstance,
  location: string,
  jar: CookieJar,
  credentials: { username: string; password: string },
  tamper: (fields: Record<string, string>) => Record<string, string> = (f) => f,
): Promise<{ page: LightMyRequestResponse; result: LightMyRequestResponse }> {
  const page = await app.inject({ method: 'GET', url: location, headers: { cookie: jar.header() } });
  const fields = tamper({ ...hiddenFields(page.body), ...credentials });
  const result = await app.inject({
    method: 'POST',
    url: '/u/login',
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
  });
  jar.take(result);
  return { page, result };
}
