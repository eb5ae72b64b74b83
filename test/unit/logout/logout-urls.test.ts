import { describe, expect, it } from 'vitest';
import { logoutUrlAllowed, withState } from '../../../src/logout/logout-urls.js';

const ALLOWED = [
  'https://app.example.com/signed-out',
  'https://*.example.org/bye',
  'https://app.example.com/logout?lang&from',
  'com.example.app://logout',
  'https://app.example.com/#/home',
];

describe('logoutUrlAllowed (Auth0 Allowed Logout URLs)', () => {
  it.each([
    'https://app.example.com/signed-out',
    'https://eu.example.org/bye',
    'https://eu-1.example.org/bye',
    'https://app.example.com/logout?lang=fr&from=menu',
    'https://app.example.com/logout?from=&lang=de',
    'com.example.app://logout',
    'https://app.example.com/#/home',
  ])('admits %s', (url) => {
    expect(logoutUrlAllowed(url, ALLOWED)).toBe(true);
  });

  it.each([
    'https://app.example.com/signed-out/',
    'https://APP.example.com/signed-out',
    'https://app.example.com/Signed-out',
    'http://app.example.com/signed-out',
    'https://app.example.com/signed-out?x=1',
    'https://app.example.com/signed-out#x',
    'https://app.example.com.evil.com/signed-out',
    'https://a.b.example.org/bye',
    'https://.example.org/bye',
    'https://-x.example.org/bye',
    'https://evil.com/x.example.org/bye',
    'https://x.example.org/bye?next=1',
    'https://app.example.com/logout',
    'https://app.example.com/logout?lang=fr',
    'https://app.example.com/logout?lang=fr&from=a&extra=1',
    'https://app.example.com/logout?lang=fr&lang=de',
    'https://app.example.com/#/home?x',
    'javascript:alert(1)',
    'data:text/html,hi',
    '/relative',
    '',
  ])('refuses %s', (url) => {
    expect(logoutUrlAllowed(url, ALLOWED)).toBe(false);
  });

  it('treats a wildcard entry as a pattern only, never a literal redirect target', () => {
    expect(logoutUrlAllowed('https://*.example.org/bye', ['https://app.example.com/'])).toBe(false);
  });
});

describe('withState', () => {
  it('adds the state to the query, encoded, before any fragment', () => {
    expect(withState('https://a.example/x', 'a b&c')).toBe('https://a.example/x?state=a%20b%26c');
    expect(withState('https://a.example/x?y=1', 's')).toBe('https://a.example/x?y=1&state=s');
    expect(withState('https://a.example/x?', 's')).toBe('https://a.example/x?state=s');
    expect(withState('https://a.example/#/home', 's')).toBe('https://a.example/?state=s#/home');
  });
});
