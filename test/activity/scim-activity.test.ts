/**
 * The activity log of SCIM requests (docs/activity.md), on both stores and both adapters: what a request
 * leaves there (time, method, endpoint path, status, scimType, latency) and what it never leaves (bodies,
 * tokens, query strings, client-chosen path segments); one customer's log never shows another's; the log
 * stays bounded; and a request writes nothing to the store for it (entries go in batches, off the path).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADAPTERS } from '../support/adapters.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { aroundStoreCalls, recordStoreCalls, type StoreCall } from '../support/store-calls.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import type { ScimSsoOptions } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('SCIM activity log (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let made: TestStore;
    let calls: StoreCall[];
    let sso: ScimSso;
    let server: Server;
    let origin: string;
    const unexpected: unknown[] = [];

    /** A fresh scim-sso instance on the shared store (as `wrap` makes it), listening through the adapter. */
    async function start(options: Omit<ScimSsoOptions, 'store' | 'onError'> = {}, wrap = (store: Store) => store): Promise<void> {
      const recorded = recordStoreCalls(wrap(made.store));
      calls = recorded.calls;
      sso = scimSso({ ...options, store: recorded.store, rateLimit: false, onError: (e) => unexpected.push(e) });
      const listener = adapter === 'express' ? express().use(sso) : new Koa().use(sso.koa).callback();
      server = createServer(listener);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    beforeAll(async () => {
      made = await makeStore(storeKind, `activity-${adapter}`);
    });
    afterEach(async () => {
      await new Promise((resolve) => server?.close(resolve));
      expect(unexpected.splice(0)).toEqual([]);
    });
    afterAll(async () => {
      await made?.cleanup();
    });

    const send = (token: string, method: string, path: string, body?: unknown) =>
      fetch(`${origin}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, body: r.status === 204 ? null : ((await r.json()) as Record<string, unknown>) }));

    const customer = async (name: string) => {
      const customerId = `${name}-${adapter}-${Math.random().toString(36).slice(2, 8)}`;
      const { token } = await sso.createScimConnection({ customerId });
      return { customerId, token };
    };

    it('records method, endpoint path, status and scimType of each request, newest first', async () => {
      await start();
      const { customerId, token } = await customer('acme');
      const created = await send(token, 'POST', '/Users', { schemas: [USER], userName: 'ann@acme.test', externalId: 'ann-ext' });
      expect(created.status).toBe(201);
      const id = created.body!.id as string;
      expect((await send(token, 'POST', '/Users', { schemas: [USER], userName: 'ann@acme.test' })).status).toBe(409);
      expect((await send(token, 'GET', '/Users?filter=userName%20eq%20%22ann%40acme.test%22')).status).toBe(200);
      expect((await send(token, 'PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(
        204,
      );
      expect((await send(token, 'GET', '/Users/ann@acme.test')).status).toBe(404);
      expect((await send(token, 'GET', '/ServiceProviderConfig')).status).toBe(200);

      const { requests, lastRequest } = await sso.activity(customerId);
      expect(requests.map((r) => [r.method, r.path, r.status, r.scimType])).toEqual([
        ['GET', '/ServiceProviderConfig', 200, null],
        ['GET', '/Users/…', 404, null],
        ['PATCH', `/Users/${id}`, 204, null],
        ['GET', '/Users', 200, null],
        ['POST', '/Users', 409, 'uniqueness'],
        ['POST', '/Users', 201, null],
      ]);
      expect(lastRequest).toEqual(requests[0]);
      for (const r of requests) expect(Date.parse(r.at)).toBeGreaterThan(Date.now() - 60_000);
      // What the stored log holds, as text: no body, no token, no query, no userName or externalId.
      const raw = (await made.store.readActivity(customerId, 'scim', 100)).join('\n');
      for (const secret of [token, 'ann@acme.test', 'ann%40acme.test', 'ann-ext', 'filter', 'schemas']) expect(raw).not.toContain(secret);
    });

    it("records a request's latency from its arrival to its answer, store time included", async () => {
      // Reads by id held back HELD_MS: a GET by id takes at least that long, whatever the machine's speed.
      const HELD_MS = 60;
      const held = (store: Store) =>
        aroundStoreCalls(store, (method, call) => (method === 'getResource' ? new Promise((resolve) => setTimeout(resolve, HELD_MS)).then(call) : call()));
      await start({}, held);
      const { customerId, token } = await customer('latency');
      const created = await send(token, 'POST', '/Users', { schemas: [USER], userName: 'lee@acme.test' });
      expect((await send(token, 'GET', `/Users/${created.body!.id as string}`)).status).toBe(200);
      const { requests } = await sso.activity(customerId);
      expect(requests.map((r) => [r.method, r.status])).toEqual([
        ['GET', 200],
        ['POST', 201],
      ]);
      expect(requests[0]!.latencyMs).toBeGreaterThanOrEqual(HELD_MS - 1); // timers may fire up to 1 ms early
    });

    it('costs a request no store call: entries reach the store in one batch, on flush', async () => {
      await start({ activityLog: { flushIntervalMs: 60_000 } });
      const { customerId, token } = await customer('batch');
      calls.length = 0;
      for (let i = 0; i < 5; i++) expect((await send(token, 'GET', '/Users?count=1')).status).toBe(200);
      expect(calls.map((c) => c.method).filter((m) => m === 'appendActivity')).toEqual([]);
      const { requests } = await sso.activity(customerId);
      expect(requests).toHaveLength(5);
      expect(calls.filter((c) => c.method === 'appendActivity')).toHaveLength(1);
    });

    it('keeps at most maxRequests per customer, the newest', async () => {
      await start({ activityLog: { maxRequests: 4 } });
      const { customerId, token } = await customer('bounded');
      for (let i = 0; i < 12; i++) await send(token, 'GET', `/Users?count=${i + 1}`);
      await sso.activity(customerId); // flush
      for (let i = 0; i < 12; i++) await send(token, 'DELETE', '/Users/0d3f0a40-0000-4000-8000-000000000000');
      const { requests } = await sso.activity(customerId, { limit: 100 });
      expect(requests).toHaveLength(4);
      expect(requests.every((r) => r.method === 'DELETE' && r.status === 404)).toBe(true);
      expect(await made.store.readActivity(customerId, 'scim', 100)).toHaveLength(4);
    });

    it("never shows one customer's requests to another, and refused tokens are in no one's log", async () => {
      await start();
      const a = await customer('tenant-a');
      const b = await customer('tenant-b');
      await send(a.token, 'POST', '/Users', { schemas: [USER], userName: 'only-a@a.test' });
      await send(b.token, 'GET', '/Groups');
      expect((await send('not-a-token-of-anyone-0123456789abcdef', 'GET', '/Users')).status).toBe(401);
      const [ofA, ofB] = await Promise.all([sso.activity(a.customerId), sso.activity(b.customerId)]);
      expect(ofA.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /Users']);
      expect(ofB.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /Groups']);
    });

    it('shows what another instance on the same store saw, once that instance flushed', async () => {
      await start();
      const { customerId, token } = await customer('shared');
      const other = scimSso({ store: made.store, rateLimit: false, onError: (e) => unexpected.push(e), activityLog: { flushIntervalMs: 20 } });
      const response = await other.handleScim({
        method: 'GET',
        path: '/Users',
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${token}` },
        body: undefined,
        baseUrl: 'http://other.test/scim/v2',
      });
      expect(response.status).toBe(200);
      // Polled: the other instance flushes every 20 ms, and a fixed wait failed on a loop stalled past it.
      await vi.waitFor(async () => expect((await sso.activity(customerId)).requests.map((r) => r.path)).toEqual(['/Users']), { timeout: 5_000, interval: 20 });
    });

    it('is off with activityLog: false', async () => {
      await start({ activityLog: false });
      const { customerId, token } = await customer('off');
      await send(token, 'GET', '/Users');
      expect(await sso.activity(customerId)).toEqual({ requests: [], lastRequest: null, refusedLogins: [] });
      expect(calls.some((c) => c.method === 'appendActivity')).toBe(false);
    });
  });
});
