import { describe, expect, it } from 'vitest';
import { buildDiscoveryDocument } from '../../../src/oauth/discovery.js';

const ISSUER = 'https://id.example.com/';

describe('buildDiscoveryDocument', () => {
  it('has the issuer and the required keys before any route contributes', () => {
    expect(buildDiscoveryDocument(ISSUER, [])).toEqual({
      issuer: ISSUER,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      response_modes_supported: [],
      response_types_supported: [],
      subject_types_supported: ['public'],
    });
  });

  it("turns each endpoint into the issuer plus the route's path, and merges lists without duplicates", () => {
    const doc = buildDiscoveryDocument(ISSUER, [
      {
        path: '/oauth/token',
        contribution: { endpoint: 'token_endpoint', metadata: { grant_types_supported: ['a', 'b'] } },
      },
      {
        path: '/oauth/device/code',
        contribution: {
          endpoint: 'device_authorization_endpoint',
          metadata: { grant_types_supported: ['b', 'c'], response_types_supported: ['code'] },
        },
      },
    ]);
    expect(doc).toMatchObject({
      token_endpoint: `${ISSUER}oauth/token`,
      device_authorization_endpoint: `${ISSUER}oauth/device/code`,
      grant_types_supported: ['a', 'b', 'c'],
      response_types_supported: ['code'],
    });
    expect(Object.keys(doc).slice(0, 3)).toEqual([
      'issuer',
      'token_endpoint',
      'device_authorization_endpoint',
    ]);
  });

  it('turns a flag on when any route supports it', () => {
    const on = { path: '/a', contribution: { metadata: { request_parameter_supported: true } } };
    const off = { path: '/b', contribution: { metadata: { request_parameter_supported: false } } };
    expect(buildDiscoveryDocument(ISSUER, [on, off])['request_parameter_supported']).toBe(true);
    expect(buildDiscoveryDocument(ISSUER, [off])['request_parameter_supported']).toBe(false);
  });

  it('refuses two routes that claim one endpoint, or a list and a flag under one key', () => {
    expect(() =>
      buildDiscoveryDocument(ISSUER, [
        { path: '/a', contribution: { endpoint: 'token_endpoint' } },
        { path: '/b', contribution: { endpoint: 'token_endpoint' } },
      ]),
    ).toThrow('discovery metadata "token_endpoint" is contributed twice with different values');
    expect(() =>
      buildDiscoveryDocument(ISSUER, [
        { path: '/a', contribution: { metadata: { request_parameter_supported: ['yes'] } } },
      ]),
    ).toThrow('"request_parameter_supported" is contributed twice');
  });
});
