/**
 * The shared part of the HTTP adapters (src/scim/mount.ts): which URLs are SCIM routes, and that a request
 * of the app outside them costs a path compare only (the mount URL is built for SCIM requests alone).
 */
import { createServer, IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { Socket, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { pathBelow, requestOrigin, settleUnreadBody, toScimRequest } from '../../src/scim/mount.js';
import { SCIM_BODY_READ_MS } from '../../src/scim/body-reads.js';
import { ScimError } from '../../src/errors.js';
import { rawHttp } from '../support/raw-http.js';
import { scimSso } from '../support/sso.js';

function nodeRequest(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  return req;
}

/** The request once a body parser has read it to its end (as express.json or koa-bodyparser do when they parse). */
async function readByParser(req: IncomingMessage): Promise<IncomingMessage> {
  req.push(null);
  req.resume();
  await new Promise((resolve) => req.once('end', resolve));
  return req;
}

describe('pathBelow', () => {
  it.each([
    ['/scim/v2', '/scim/v2', '/'],
    ['/scim/v2/', '/scim/v2', '/'],
    ['/scim/v2', '/scim/v2/Users', '/Users'],
    ['/scim/v2', '/scim/v2/USERS/abc', '/USERS/abc'],
    // The base matches case and all, as the rules of a proxy in front compare it.
    ['/scim/v2', '/SCIM/V2/Users/abc', null],
    ['/scim/v2', '/Scim/v2/Users', null],
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
    expect(
      toScimRequest(
        { node: req, url: '/dashboard?x=1', parsedBody: undefined, mountUrl: mountUrlNeverBuilt },
        { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
      ),
    ).toBeNull();
  });

  it('never builds the mount URL when the app set publicBaseUrl', () => {
    const req = nodeRequest('GET', '/scim/v2/Users?count=1', { host: 'internal:8080' });
    const request = toScimRequest(
      { node: req, url: '/scim/v2/Users?count=1', parsedBody: undefined, mountUrl: mountUrlNeverBuilt },
      { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: 'https://app.example/scim/v2/' },
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
    const request = toScimRequest(
      { node: req, url: '/scim/v2/Users', parsedBody: undefined, mountUrl },
      { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
    );
    expect(request?.baseUrl).toBe('https://app.example/tenant/scim/v2');
    expect(built).toBe(1);
  });

  it('takes a body a parser mounted first produced, unless its declared length passes maxBodyBytes (then a 413 once authenticated)', async () => {
    const within = toScimRequest(
      {
        node: await readByParser(nodeRequest('POST', '/scim/v2/Users', { 'content-length': '1000' })),
        url: '/scim/v2/Users',
        parsedBody: { userName: 'a' },
        mountUrl: () => '',
      },
      { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
    );
    expect(within?.body).toEqual({ userName: 'a' });
    expect(within?.readBody).toBeUndefined();
    const over = toScimRequest(
      {
        node: await readByParser(nodeRequest('POST', '/scim/v2/Users', { 'content-length': '1001' })),
        url: '/scim/v2/Users',
        parsedBody: { userName: 'a' },
        mountUrl: () => '',
      },
      { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
    );
    expect(over?.body).toBeUndefined();
    expect(await over?.readBody?.()).toMatchObject({ status: 413 });
  });

  it("reads the body itself when a parser left the stream unread (Koa's parsers set {} for a Content-Type they skip)", () => {
    const skipped = toScimRequest(
      { node: nodeRequest('POST', '/scim/v2/Users', { 'content-length': '20' }), url: '/scim/v2/Users', parsedBody: {}, mountUrl: () => '' },
      { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
    );
    expect(skipped?.body).toBeUndefined();
    expect(skipped?.readBody).toBeTypeOf('function');
  });
});

describe('request targets', () => {
  it('answers an absolute-form target (GET http://host/scim/v2/…, RFC 9112 §3.2.2) as its path, on Express and Koa', async () => {
    const sso = scimSso({ rateLimit: false });
    const { token } = await sso.createScimConnection({ customerId: 'absolute-form' });
    for (const handler of [express().use(sso), new Koa().use(sso.koa).callback()]) {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const answer = await rawHttp(origin, 'GET http://elsewhere.test/scim/v2/ServiceProviderConfig HTTP/1.1', { Authorization: `Bearer ${token}` });
      server.close();
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(answer).toContain('"patch":{"supported":true}');
    }
  });
});

describe('the origin of answers’ URLs without publicBaseUrl', () => {
  it.each([
    ['app.test:8443', 'https://app.test:8443'],
    ['a.test, b.test', 'https://a.test'],
    [undefined, 'https://localhost'],
    ['bad host/with/slashes', 'https://localhost'],
  ])('Host %s → %s', (host, origin) => expect(requestOrigin('https', host)).toBe(origin));

  it('follows X-Forwarded-Host/-Proto on Express and on Koa only when the app trusts its proxy, alike', async () => {
    const sso = scimSso({ rateLimit: false });
    const { token } = await sso.createScimConnection({ customerId: 'forwarded' });
    const trustedExpress = express().set('trust proxy', true).use(sso);
    const plainExpress = express().use(sso);
    const trustedKoa = new Koa({ proxy: true }).use(sso.koa);
    const plainKoa = new Koa().use(sso.koa);
    const headers = { Authorization: `Bearer ${token}`, Host: 'internal:8080', 'X-Forwarded-Host': 'public.example', 'X-Forwarded-Proto': 'https' };
    const locationOf = async (server: Parameters<typeof request>[0]) => {
      const res = await request(server).get('/scim/v2/ServiceProviderConfig').set(headers);
      expect(res.status).toBe(200);
      return String(res.body.meta.location);
    };
    expect(await locationOf(trustedExpress)).toBe('https://public.example/scim/v2/ServiceProviderConfig');
    expect(await locationOf(trustedKoa.callback())).toBe('https://public.example/scim/v2/ServiceProviderConfig');
    expect(await locationOf(plainExpress)).toBe('http://internal:8080/scim/v2/ServiceProviderConfig');
    expect(await locationOf(plainKoa.callback())).toBe('http://internal:8080/scim/v2/ServiceProviderConfig');
  });

  it('refuses the same malformed hosts and odd forwarded protocols on Express and on Koa', async () => {
    const sso = scimSso({ rateLimit: false });
    const { token } = await sso.createScimConnection({ customerId: 'odd-hosts' });
    const servers = {
      express: express().set('trust proxy', true).use(sso),
      koa: new Koa({ proxy: true }).use(sso.koa).callback(),
    };
    const locationOf = async (server: Parameters<typeof request>[0], headers: Record<string, string>) => {
      const res = await request(server)
        .get('/scim/v2/ServiceProviderConfig')
        .set({ Authorization: `Bearer ${token}`, ...headers });
      expect(res.status).toBe(200);
      return String(res.body.meta.location).replace('/scim/v2/ServiceProviderConfig', '');
    };
    for (const [headers, origin] of [
      [{ Host: 'user@evil.test' }, 'http://localhost'],
      [{ Host: 'u:p@evil.test:8443' }, 'http://localhost'],
      [{ 'X-Forwarded-Host': 'user@evil.test' }, 'http://localhost'],
      [{ Host: 'app.test', 'X-Forwarded-Proto': 'HTTPS' }, 'https://app.test'],
      [{ Host: 'app.test', 'X-Forwarded-Proto': 'javascript' }, 'http://app.test'],
    ] as const) {
      for (const [name, server] of Object.entries(servers)) expect(await locationOf(server, headers), `${name} ${JSON.stringify(headers)}`).toBe(origin);
    }
  });
});

/**
 * Koa's common body parser, loaded without its typings: they declare `body` on every Node IncomingMessage,
 * which would retype Express's `req.body` in the whole project (the example app's included).
 */
const { bodyParser } = createRequire(import.meta.url)('@koa/bodyparser') as { bodyParser: () => Koa.Middleware };

describe('a body that does not arrive', () => {
  it(`is a 408 after ${SCIM_BODY_READ_MS / 1000} s, and the connection is closed after the answer`, async () => {
    vi.useFakeTimers();
    try {
      const req = nodeRequest('POST', '/scim/v2/Users', { host: 'app.test', 'content-length': '100' });
      const request = toScimRequest(
        { node: req, url: '/scim/v2/Users', parsedBody: undefined, mountUrl: () => 'http://app.test' },
        { basePath: '/scim/v2', maxBodyBytes: 1000, publicBaseUrl: undefined },
      )!;
      req.push(Buffer.from('{"userName":'));
      const read = request.readBody!();
      await vi.advanceTimersByTimeAsync(SCIM_BODY_READ_MS - 1);
      let settled = false;
      void read.then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const result = await read;
      expect(result).toBeInstanceOf(ScimError);
      expect((result as ScimError).status).toBe(408);
      expect(settleUnreadBody(req, {})).toEqual({ Connection: 'close' });
    } finally {
      vi.useRealTimers();
    }
  });
});

/** Servers of scim-sso without a parser, after express.json, and after @koa/bodyparser, listening. */
function parserFirstServers(sso: ReturnType<typeof scimSso>): Promise<Server[]> {
  const apps = {
    none: express().use(sso),
    express: express()
      .use(express.json({ type: ['application/json', 'application/scim+json'] }))
      .use(sso),
    koa: new Koa().use(bodyParser()).use(sso.koa).callback(),
  };
  return Promise.all(
    Object.values(apps).map(async (app) => {
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
}

describe('with a body parser mounted before scim-sso', () => {
  it('answers a .search without a body as without the parser: 400 invalidSyntax, not the whole list', async () => {
    // Found by an audit (2026-12-06): parsers set `{}` for an empty body, and @koa/bodyparser's `{}` for a
    // request without one was taken as a SearchRequest listing every user.
    const sso = scimSso({ rateLimit: false });
    const { token } = await sso.createScimConnection({ customerId: 'parsed-empty' });
    const servers = await parserFirstServers(sso);
    try {
      for (const server of servers) {
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const created = await fetch(`${origin}/scim/v2/Users`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
          body: JSON.stringify({ userName: `someone-${origin}` }),
        });
        expect(created.status).toBe(201);
        const withoutBody: Record<string, string>[] = [
          { 'Content-Type': 'application/scim+json' },
          { 'Content-Type': 'application/scim+json', 'Content-Length': '0' },
        ];
        for (const headers of withoutBody) {
          const answer = await rawHttp(origin, 'POST /scim/v2/Users/.search HTTP/1.1', { Authorization: `Bearer ${token}`, ...headers });
          expect(answer, `${origin} ${JSON.stringify(headers)}`).toMatch(/^HTTP\/1\.1 400 /);
          expect(answer).toContain('"scimType":"invalidSyntax"');
          expect(answer).not.toContain('totalResults');
        }
      }
    } finally {
      for (const server of servers) server.close();
    }
  });

  it('answers a POST, whatever its Content-Type, as without the parser, on Express (express.json) and Koa (@koa/bodyparser)', async () => {
    const sso = scimSso({ rateLimit: false });
    const { token } = await sso.createScimConnection({ customerId: 'parsed-first' });
    const servers = await parserFirstServers(sso);
    try {
      let n = 0;
      const post = async (server: Server, type: string | null) => {
        const body = Buffer.from(JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `parsed-${n++}@corp.test` }));
        const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...(type ? { 'Content-Type': type } : {}) };
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2/Users`, { method: 'POST', headers, body });
        await res.arrayBuffer();
        return res.status;
      };
      // No Content-Type, the SCIM one, and types neither parser takes: a parser that skips a body leaves it
      // for scim-sso to read (Koa's set `{}`, which is not the body).
      for (const type of [null, 'application/scim+json', 'application/json', 'application/vnd.api+json', 'text/plain']) {
        const statuses: number[] = [];
        for (const server of servers) statuses.push(await post(server, type));
        expect(statuses, String(type)).toEqual([statuses[0], statuses[0], statuses[0]]);
        if (type === null || type.endsWith('json')) expect(statuses[0], String(type)).toBe(201);
      }
    } finally {
      for (const server of servers) server.close();
    }
  });
});
