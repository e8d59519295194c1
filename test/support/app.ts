/**
 * An app (Express or Koa) with scim-sso's SCIM routes mounted on a memory or Redis store, a SCIM connection
 * ready to use, and a `/health` route behind them (to prove other requests pass through).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expect } from 'vitest';
import Koa from 'koa';
import supertest from 'supertest';
import type { ScimSsoOptions } from '../../src/index.js';
import { scimSso, type ScimSso } from './sso.js';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import type { TombstoneOptions } from '../../src/store/tombstones.js';
import type { EventLogOptions } from '../../src/store/event-log.js';
import type { Redis } from 'ioredis';
import { testRedis } from './redis.js';
import { ADAPTERS, type AdapterKind } from './adapters.js';

export type StoreKind = 'memory' | 'redis';
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

/** Every store × adapter combination the shared SCIM route tests run on. */
export const SCIM_TARGETS = STORE_KINDS.flatMap((store) => ADAPTERS.map((adapter) => ({ store, adapter })));

export interface TestStore {
  store: Store;
  /** The Redis client and key prefix behind a Redis store (absent for the memory store). */
  redis?: { client: Redis; prefix: string };
  cleanup(): Promise<void>;
}

/** A fresh store; `storeOptions` sets its clock and tombstone limits (tests move a clock, never sleep). */
export async function makeStore(kind: StoreKind, hint: string, storeOptions: TombstoneOptions & EventLogOptions = {}): Promise<TestStore> {
  if (kind === 'memory') return { store: memoryStore(storeOptions), cleanup: async () => {} };
  const redis = await testRedis(hint);
  return {
    store: redisStore({ ...storeOptions, client: redis.client, prefix: redis.prefix }),
    redis: { client: redis.client, prefix: redis.prefix },
    cleanup: redis.cleanup,
  };
}

export interface ScimTestApp {
  sso: ScimSso;
  http: supertest.Agent;
  token: string;
  auth: { Authorization: string };
  /** `http://127.0.0.1:<port>` of the listening app, for requests supertest cannot make (raw bytes). */
  origin: string;
  /** Errors the handler reported as unexpected (answered 500); tests expect none. */
  unexpected: unknown[];
  cleanup(): Promise<void>;
}

/** The SCIM media type with the charset the routes answer with. */
export const SCIM_JSON = /^application\/scim\+json/;

/** A listening server with the SCIM routes of `sso` mounted through the given adapter. */
function listen(sso: ScimSso, adapter: AdapterKind): Promise<Server> {
  let server: Server;
  if (adapter === 'express') {
    const app = express();
    app.use(sso);
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    server = createServer(app);
  } else {
    const app = new Koa();
    app.use(sso.koa);
    app.use(async (ctx, next) => {
      if (ctx.path !== '/health') return next();
      ctx.body = 'ok';
    });
    // Build the server after the middleware is mounted (docs/oidc-and-passport.md §Koa).
    server = createServer(app.callback());
  }
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function scimTestApp(
  kind: StoreKind,
  hint: string,
  options: ScimSsoOptions = {},
  adapter: AdapterKind = 'express',
  storeOptions: TombstoneOptions & EventLogOptions = {},
): Promise<ScimTestApp> {
  const { store, cleanup } = await makeStore(kind, hint, storeOptions);
  const unexpected: unknown[] = [];
  const sso = scimSso({ ...options, store, onError: (error) => unexpected.push(error) });
  const { token } = await sso.createScimConnection({ customerId: `${hint}-customer` });
  // One listening server for the whole file, so URLs in responses (Location, meta.location) are stable.
  const server = await listen(sso, adapter);
  const auth = { Authorization: `Bearer ${token}` };
  return {
    sso,
    http: supertest.agent(server),
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    auth,
    unexpected,
    async cleanup() {
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    },
  };
}

/** The `$ref` of a group member that is a user (RFC 7643 §4.2), whatever host the test server listens on. */
export const userRef = (id: string) =>
  expect.stringMatching(new RegExp(`^http://[^/]+/scim/v2/Users/${encodeURIComponent(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

/** Creates an active user through the app's SCIM routes and returns its id (201 expected). */
export async function createActiveUser(app: ScimTestApp, userName: string): Promise<string> {
  const res = await app.http
    .post('/scim/v2/Users')
    .set(app.auth)
    .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true });
  expect(res.status).toBe(201);
  return res.body.id as string;
}
