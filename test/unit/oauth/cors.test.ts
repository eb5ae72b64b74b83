import { describe, expect, it } from 'vitest';
import {
  clientOriginPatterns,
  normalizeOrigin,
  originAllowed,
  parseOriginPattern,
} from '../../../src/oauth/cors.js';

const allows = (entries: string[], origin: string) => {
  const normal = normalizeOrigin(origin);
  return normal !== undefined && originAllowed(normal, clientOriginPatterns({ web_origins: entries }));
};

describe('CORS origins', () => {
  it('normalises an Origin header as the URL standard serialises origins', () => {
    expect(normalizeOrigin('HTTPS://App.Example.COM:443')).toBe('https://app.example.com');
    expect(normalizeOrigin('http://localhost:3000')).toBe('http://localhost:3000');
    expect(normalizeOrigin('http://[::1]:8080')).toBe('http://[::1]:8080');
    for (const bad of [
      undefined,
      'null',
      'file://',
      'chrome-extension://abc',
      'https://a.example.com/path',
      'https://a.example.com?x',
      'https://user@a.example.com',
      'not a url',
    ]) {
      expect(normalizeOrigin(bad), String(bad)).toBeUndefined();
    }
  });

  it('matches exact entries on scheme, host and port, ignoring paths as Auth0 does', () => {
    expect(allows(['https://app.example.com/callback'], 'https://app.example.com')).toBe(true);
    expect(allows(['https://app.example.com'], 'http://app.example.com')).toBe(false);
    expect(allows(['https://app.example.com'], 'https://app.example.com:444')).toBe(false);
    expect(allows(['http://localhost:3000'], 'http://localhost:3001')).toBe(false);
    expect(allows(['myapp://callback'], 'null')).toBe(false);
  });

  it("follows Auth0's subdomain placeholder rules", () => {
    expect(allows(['https://*.example.com'], 'https://app.example.com')).toBe(true);
    expect(allows(['https://*.example.com'], 'https://example.com')).toBe(false);
    expect(allows(['https://*.example.com'], 'https://a.b.example.com')).toBe(false);
    expect(allows(['https://*.example.com'], 'https://app.example.com.evil.io')).toBe(false);
    expect(allows(['https://*.example.com'], 'http://app.example.com')).toBe(false);
    expect(allows(['https://*.example.com:8443'], 'https://app.example.com:8443')).toBe(true);
    expect(allows(['https://*.example.com:8443'], 'https://app.example.com')).toBe(false);
    expect(allows(['https://pre-*-post.example.com'], 'https://pre-42-post.example.com')).toBe(true);
    expect(allows(['https://pre-*-post.example.com'], 'https://pre--post.example.com')).toBe(false);
    expect(allows(['https://pre-*-post.example.com'], 'https://x-42-post.example.com')).toBe(false);
    for (const invalid of [
      'https://*.com',
      'https://sub.*.example.com',
      'https://*.*.example.com',
      'https://**.example.com',
      'myapp://*.example.com',
    ]) {
      expect(parseOriginPattern(invalid), invalid).toBeUndefined();
    }
  });

  it('reads web_origins, allowed_origins and callbacks, skipping what is not a URL', () => {
    const patterns = clientOriginPatterns({
      web_origins: ['https://a.example.com', 42, 'nonsense'],
      allowed_origins: ['https://b.example.com'],
      callbacks: ['https://c.example.com/cb'],
      allowed_logout_urls: ['https://d.example.com'],
    });
    expect(patterns).toEqual([
      { kind: 'exact', origin: 'https://a.example.com' },
      { kind: 'exact', origin: 'https://b.example.com' },
      { kind: 'exact', origin: 'https://c.example.com' },
    ]);
  });
});
