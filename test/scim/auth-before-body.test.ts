/**
 * The bearer token is checked before a body is read (src/scim/mount.ts, src/scim/handler.ts): an
 * anonymous client cannot make the server buffer and parse a body. Proved on the wire with raw sockets:
 * the server answers 401 while most of the declared body has not even been sent.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/adapters.js';
import { endlessPost } from '../support/endless-body.js';
import { scimTestApp, type ScimTestApp } from '../support/app.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends the request head and `firstBytes` of a body declared `declaredLength` long, and reads one response. */
function partialRequest(origin: string, head: Record<string, string>, declaredLength: number, firstBytes: string): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine = '', ...lines] = received.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      const body = received.slice(end + 4);
      if (Buffer.byteLength(body) < length) return;
      socket.destroy();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    const lines = Object.entries({ Host: 'scim.test', 'Content-Type': 'application/scim+json', ...head, 'Content-Length': String(declaredLength) });
    socket.write(`POST /scim/v2/Users HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${firstBytes}`);
  });
}

describe.each(ADAPTERS)('authentication before the body on %s', (adapter) => {
  let app: ScimTestApp;
  beforeAll(async () => {
    app = await scimTestApp('memory', `auth-body-${adapter}`, { maxBodyBytes: 64 * 1024 }, adapter);
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it('answers 401 to an anonymous POST before its body arrives, and closes a large unread body', async () => {
    const res = await partialRequest(app.origin, {}, 900_000, '{"userName":"');
    expect(res.status).toBe(401);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ status: '401' });
  });

  it('answers 401 to a wrong token before its body arrives', async () => {
    const res = await partialRequest(app.origin, { Authorization: 'Bearer scim_not-a-real-token' }, 900_000, '{');
    expect(res.status).toBe(401);
    expect(res.headers.connection).toBe('close');
  });

  it('keeps the connection for a small unread body', async () => {
    const body = JSON.stringify({ userName: 'small@example.com' });
    const res = await partialRequest(app.origin, {}, Buffer.byteLength(body), body);
    expect(res.status).toBe(401);
    expect(res.headers.connection).not.toBe('close');
  });

  it('keeps the connection open for requests without a body (GET, DELETE), authenticated or not', async () => {
    for (const [method, auth] of [
      ['GET', true],
      ['DELETE', true],
      ['GET', false],
    ] as const) {
      const res = await fetch(`${app.origin}/scim/v2/Users${method === 'DELETE' ? '/no-such-id' : ''}`, {
        method,
        headers: auth ? { Authorization: `Bearer ${app.token}` } : {},
      });
      await res.arrayBuffer();
      expect(res.headers.get('connection'), `${method} ${auth ? 'with' : 'without'} a token`).not.toBe('close');
    }
  });

  it('reads the body of an authenticated request and still enforces the size limit', async () => {
    const tooLarge = await partialRequest(app.origin, { Authorization: `Bearer ${app.token}` }, 100_000, '{');
    expect(tooLarge.status).toBe(413);
    const created = await app.http
      .post('/scim/v2/Users')
      .set(app.auth)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'body-after-auth@example.com' }));
    expect(created.status).toBe(201);
    expect(app.unexpected).toEqual([]);
  });

  it.each([
    ['declared too large', true],
    ['chunked, past the limit', false],
  ])('stops reading a body %s after its 413 and closes the connection (a token holder cannot stream forever)', async (_name, declared) => {
    const framing = declared ? 'Content-Length: 1000000000' : 'Transfer-Encoding: chunked';
    const requestHead = `POST /scim/v2/Users HTTP/1.1\r\nHost: scim.test\r\nAuthorization: Bearer ${app.token}\r\nContent-Type: application/scim+json\r\n${framing}\r\n\r\n`;
    // Keeps sending as fast as the server takes it, until the server closes the connection.
    const { head, sent } = await endlessPost(app.origin, requestHead, 'x'.repeat(16 * 1024), !declared);
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head.toLowerCase()).toContain('connection: close');
    // Closed long before the client would have stopped: the server read a few chunks past its limit at most.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });
});
