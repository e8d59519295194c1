/**
 * Large response bodies (src/scim/response-body.ts): a long member list or a page of heavy users is
 * answered in encoded parts, joined with yields between them, and every adapter (Express, Koa, plain Node
 * http) writes those parts with the right Content-Length, byte for byte what the body's text is.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BODY_PART_CHARS, BODY_SEND_MS, bodyText, joinBody, writeBody } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS } from '../support/app.js';
import { ticksDuring } from '../support/event-loop.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { SCIM_SERVERS } from '../support/scim-servers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const MEMBERS = 3_000;

describe('an answer in parts the client does not read', () => {
  it(`is given up after ${BODY_SEND_MS / 1000} s: its connection is destroyed, what was queued freed`, async () => {
    // Found by an audit (2026-12-06): Node has no deadline for an answer, and 10 clients that never read
    // 8 MB answers held 68 MB for as long as they stayed connected.
    // 64 MB, more than the kernel's socket buffers take, so that Node holds the rest.
    const part = Buffer.alloc(1024 * 1024, 0x61);
    const parts = Array.from({ length: 64 }, () => part);
    let answer: import('node:http').ServerResponse | undefined;
    const server = createServer((_req, res) => {
      answer = res;
      writeBody(res, parts);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.pause(); // never reads
      socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      while (!answer) await new Promise((resolve) => setImmediate(resolve));
      const closed = new Promise((resolve) => answer!.once('close', resolve));
      await vi.advanceTimersByTimeAsync(BODY_SEND_MS - 1);
      expect(answer.destroyed).toBe(false);
      expect(answer.writableFinished).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await closed;
      expect(answer.destroyed).toBe(true);
      socket.destroy();
    } finally {
      vi.useRealTimers();
      server.close();
    }
  });
});

describe('an answer in parts to a client gone before it was built', () => {
  it('is not written, and nothing holds its parts', async () => {
    // Found by a soak audit (2026-12-07): the deadline and listeners set on a response already closed kept
    // each such answer's parts for BODY_SEND_MS (20 GETs of a 3.7 MB group, each left at once: 67 MB).
    const collected: string[] = [];
    const registry = new FinalizationRegistry<string>((name) => collected.push(name));
    let sent = 0;
    const server = createServer((_req, res) => {
      res.once('close', () => {
        const parts = Array.from({ length: 4 }, () => Buffer.alloc(256 * 1024, 0x61));
        parts.forEach((part, i) => registry.register(part, `part ${i}`));
        writeBody(res, parts, () => sent++);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      while (sent === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 0; i < 50 && collected.length < 4; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(sent).toBe(1);
      expect(collected.sort()).toEqual(['part 0', 'part 1', 'part 2', 'part 3']);
    } finally {
      server.close();
    }
  });
});

describe('an answer in parts', () => {
  it('is handed to the socket a part at a time as the client reads, never queued whole, and arrives byte for byte', async () => {
    // Found by an audit (2026-12-06): written all at once, a 13 MB answer went to the kernel in one system
    // call that held the event loop 34-46 ms.
    const parts = Array.from({ length: 48 }, (_, i) => Buffer.alloc(256 * 1024, 0x41 + (i % 26)));
    let answer: import('node:http').ServerResponse | undefined;
    const server = createServer((_req, res) => {
      answer = res;
      writeBody(res, parts);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.pause();
      socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      while (!answer) await new Promise((resolve) => setImmediate(resolve));
      // While the client reads nothing, Node holds at most the part the socket did not take (the kernel's
      // buffers hold some more): not the 12 MB answer.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answer.writableLength).toBeLessThanOrEqual(2 * 256 * 1024);
      expect(answer.writableFinished).toBe(false);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.resume();
      await new Promise((resolve) => socket.once('end', resolve));
      const raw = Buffer.concat(received);
      const body = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
      expect(body.equals(Buffer.concat(parts))).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe('joinBody', () => {
  it('keeps a short body one string', async () => {
    expect(await joinBody(['{"a":', '1', '}'])).toBe('{"a":1}');
  });

  it('encodes a long body in bounded parts, yielding between them, with the same bytes as the joined text', async () => {
    const pieces = Array.from({ length: 400 }, (_, i) => `"é${i}":${'x'.repeat(4000)},`);
    const { result: body, ticks: immediates } = await ticksDuring(() => joinBody(pieces));
    expect(Array.isArray(body)).toBe(true);
    const parts = body as readonly Buffer[];
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(2 * (BODY_PART_CHARS + 4100));
    expect(bodyText(body)).toBe(pieces.join(''));
    // Other callbacks ran while the parts were encoded: at least one per part but the last.
    expect(immediates).toBeGreaterThanOrEqual(parts.length - 1);
  });
});

/** `GET url` (or another method without a body) over a raw socket: status, headers and the body's bytes exactly as sent. */
function get(origin: string, path: string, token: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { method, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const ADAPTERS = SCIM_SERVERS;

describe.each(STORE_KINDS)('large bodies on the %s store', (kind) => {
  let sso: ScimSso;
  let token: string;
  let cleanup: () => Promise<void>;
  const servers: Partial<Record<keyof typeof ADAPTERS, { server: Server; origin: string }>> = {};
  let groupId: string;
  const unexpected: unknown[] = [];

  const call = (method: string, path: string, options: { body?: unknown; query?: string } = {}) =>
    sso.handleScim(scimRequest(token, method, path, { ...options, baseUrl: 'http://127.0.0.1/scim/v2' }));

  beforeAll(async () => {
    const store = await makeStore(kind, `large-bodies-${kind}`);
    cleanup = store.cleanup;
    sso = scimSso({ store: store.store, onError: (error) => unexpected.push(error) });
    ({ token } = await sso.createScimConnection({ customerId: `large-bodies-${kind}` }));
    const members = Array.from({ length: MEMBERS }, (_, i) => ({ value: `member-${i}`, display: `Member ${i} «é»` }));
    const created = await call('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Everyone', members } });
    expect(created.status).toBe(201);
    expect(Array.isArray(created.body)).toBe(true);
    groupId = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    // Users heavy enough that one page of them passes a part's size.
    const roles = Array.from({ length: 60 }, (_, i) => ({ value: `role-${i}-${'r'.repeat(120)}` }));
    for (let i = 0; i < 40; i++) expect((await call('POST', '/Users', { body: { schemas: [USER], userName: `heavy${i}@corp.test`, roles } })).status).toBe(201);
    for (const [name, make] of Object.entries(ADAPTERS)) {
      const server = make(sso);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers[name as keyof typeof ADAPTERS] = { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }
  });
  afterAll(async () => {
    for (const entry of Object.values(servers)) await new Promise((resolve) => entry.server.close(resolve));
    await cleanup();
    expect(unexpected).toEqual([]);
  });

  it.each([
    ['a group with its members', () => `/Groups/${groupId}`],
    ['a group shaped by a projection', () => `/Groups/${groupId}?excludedAttributes=displayName,members.type`],
    ['a page of groups with their members', () => '/Groups?count=5'],
    ['a page of heavy users', () => '/Users?count=40'],
  ])('answers %s in parts, and every adapter sends exactly their bytes', async (_what, pathOf) => {
    const [path, query = ''] = pathOf().split('?');
    const inProcess = await call('GET', path!, { query });
    expect(inProcess.status).toBe(200);
    expect(Array.isArray(inProcess.body)).toBe(true);
    const expected = bodyText(inProcess.body)!;
    const parsed = JSON.parse(expected) as { members?: { value: string; display?: string }[]; Resources?: { members?: unknown[]; roles?: unknown[] }[] };
    if (path!.startsWith('/Groups/')) {
      expect(parsed.members).toHaveLength(MEMBERS);
      expect(parsed.members![MEMBERS - 1]!.value).toBe(`member-${MEMBERS - 1}`);
      expect(parsed.members![0]!.display).toBe('Member 0 «é»');
      expect((parsed as { displayName?: string }).displayName).toBe(query === '' ? 'Everyone' : undefined);
    } else expect(parsed.Resources!.length).toBeGreaterThan(0);

    for (const [name, { origin }] of Object.entries(servers)) {
      const answer = await get(origin, `/scim/v2${pathOf()}`, token);
      expect({ name, status: answer.status }).toEqual({ name, status: 200 });
      expect(answer.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(Number(answer.headers['content-length'])).toBe(answer.bytes.length);
      // The same text as in process, but for the origin in each URL (one server per adapter).
      const text = answer.bytes.toString('utf8').replaceAll(`${origin}/scim/v2`, 'http://127.0.0.1/scim/v2');
      expect({ name, length: text.length, same: text === expected }).toEqual({ name, length: expected.length, same: true });
    }
  });

  it('leaves the member list out when the projection leaves none of its sub-attributes, as for a short group', async () => {
    const query = 'excludedAttributes=members.value,members.$ref,members.display,members.type';
    const long = JSON.parse(bodyText((await call('GET', `/Groups/${groupId}`, { query })).body)!) as Record<string, unknown>;
    expect(long.displayName).toBe('Everyone');
    expect(Object.hasOwn(long, 'members')).toBe(false);
    const small = await call('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Two', members: [{ value: 'a' }, { value: 'b' }] } });
    const id = (JSON.parse(bodyText(small.body)!) as { id: string }).id;
    const short = JSON.parse(bodyText((await call('GET', `/Groups/${id}`, { query })).body)!) as Record<string, unknown>;
    expect(Object.hasOwn(short, 'members')).toBe(false);
    expect((await call('DELETE', `/Groups/${id}`)).status).toBe(204);
  });

  it.each([
    ['a user list', () => '/Users?count=2'],
    ['a group with its members (an answer in parts)', () => `/Groups/${groupId}`],
    ['a discovery document', () => '/ServiceProviderConfig'],
  ])('answers HEAD of %s as GET without the body, with the same Content-Length and ETag on every adapter', async (_what, pathOf) => {
    for (const [name, { origin }] of Object.entries(servers)) {
      const full = await get(origin, `/scim/v2${pathOf()}`, token);
      const head = await get(origin, `/scim/v2${pathOf()}`, token, 'HEAD');
      expect({ name, status: head.status, bytes: head.bytes.length }).toEqual({ name, status: 200, bytes: 0 });
      expect({ name, length: head.headers['content-length'], etag: head.headers.etag }).toEqual({
        name,
        length: String(full.bytes.length),
        etag: full.headers.etag,
      });
    }
  });

  it('lists HEAD in Allow', async () => {
    const answer = await call('POST', '/ServiceProviderConfig', { body: {} });
    expect([answer.status, answer.headers.Allow]).toEqual([405, 'GET, HEAD']);
    const collection = await call('DELETE', '/Users');
    expect([collection.status, collection.headers.Allow]).toEqual([405, 'GET, HEAD, POST']);
  });

  it('keeps an HTTP/1.0 client’s connection open with a Content-Length on every adapter', async () => {
    for (const [name, { origin }] of Object.entries(servers)) {
      const { hostname, port } = new URL(origin);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
          const end = text.indexOf('\r\n\r\n');
          const length = /content-length: (\d+)/i.exec(text)?.[1];
          if (end !== -1 && length !== undefined && text.length >= end + 4 + Number(length)) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write(`GET /scim/v2/Users?count=1 HTTP/1.0\r\nHost: ${hostname}\r\nConnection: keep-alive\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      });
      const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
      expect({ name, length: /content-length: \d+/.test(head), close: head.includes('connection: close') }).toEqual({ name, length: true, close: false });
    }
  });

  it('keeps a small answer one string', async () => {
    const small = await call('GET', '/Users', { query: 'count=1' });
    expect(typeof small.body).toBe('string');
    const bare = await call('GET', `/Groups/${groupId}`, { query: 'excludedAttributes=members' });
    expect(typeof bare.body).toBe('string');
  });
});
