/**
 * The shared part of the HTTP adapters (src/scim/mount.ts): which URLs are SCIM routes, and that a request
 * of the app outside them costs a path compare only (the mount URL is built for SCIM requests alone).
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pathBelow, toScimRequest } from '../../src/scim/mount.js';

function nodeRequest(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  return req;
}

describe('pathBelow', () => {
  it.each([
    ['/scim/v2', '/scim/v2', '/'],
    ['/scim/v2/', '/scim/v2', '/'],
    ['/scim/v2', '/scim/v2/Users', '/Users'],
    ['/scim/v2', '/SCIM/V2/Users/abc', '/Users/abc'],
    ['/scim/v2', '/scim/v2Users', null],
    ['/scim/v2', '/scim', null],
    ['/scim/v2', '/other/scim/v2/Users', null],
  ])('base %s, path %s → %s', (base, path, expected) => expect(pathBelow(base, path)).toBe(expected));
});

describe('toScimRequest', () => {
  const mountUrlNeverBuilt = () => {
    throw new Error('the mount URL was built');
  };

  it('passes a request outside basePath on without building its mount URL', () => {
    const req = nodeRequest('GET', '/dashboard?x=1', { host: 'app.example' });
    expect(toScimRequest({ node: req, url: '/dashboard?x=1', parsedBody: undefined, mountUrl: mountUrlNeverBuilt }, '/scim/v2', 1000, undefined)).toBeNull();
  });

  it('never builds the mount URL when the app set publicBaseUrl', () => {
    const req = nodeRequest('GET', '/scim/v2/Users?count=1', { host: 'internal:8080' });
    const request = toScimRequest(
      { node: req, url: '/scim/v2/Users?count=1', parsedBody: undefined, mountUrl: mountUrlNeverBuilt },
      '/scim/v2',
      1000,
      'https://app.example/scim/v2/',
    );
    expect(request).toMatchObject({ method: 'GET', path: '/Users', baseUrl: 'https://app.example/scim/v2' });
    expect(request?.query.get('count')).toBe('1');
  });

  it('builds the base URL from the mount URL for a SCIM request', () => {
    const req = nodeRequest('GET', '/scim/v2/Users', { host: 'app.example' });
    let built = 0;
    const mountUrl = () => {
      built++;
      return 'https://app.example/tenant';
    };
    const request = toScimRequest({ node: req, url: '/scim/v2/Users', parsedBody: undefined, mountUrl }, '/scim/v2', 1000, undefined);
    expect(request?.baseUrl).toBe('https://app.example/tenant/scim/v2');
    expect(built).toBe(1);
  });
});
