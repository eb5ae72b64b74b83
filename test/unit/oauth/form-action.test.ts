import { describe, expect, it } from 'vitest';
import { formActionSource } from '../../../src/oauth/authorize/respond.js';

describe('the CSP form-action source of a redirect URI', () => {
  it.each([
    ['https://app.example.com/callback?x=1', 'https://app.example.com'],
    ['http://localhost:3000/cb', 'http://localhost:3000'],
    ['https://APP.example.com:443/cb', 'https://app.example.com'],
    ['com.example.app://callback', 'com.example.app:'],
  ])('%s → %s', (uri, source) => {
    expect(formActionSource(uri)).toBe(source);
  });
});
