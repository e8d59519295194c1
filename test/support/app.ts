/** An Express app with scim-sso mounted on a memory or Redis store, and a SCIM connection ready to use. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import supertest from 'supertest';
import { scimSso, type ScimSso, type ScimSsoOptions } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { testRedis } from './redis.js';

export type StoreKind = 'memory' | 'redis';
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

export interface TestStore {
  store: Store;
  cleanup(): Promise<void>;
}

export async function makeStore(kind: StoreKind, hint: string): Promise<TestStore> {
  if (kind === 'memory') return { store: memoryStore(), cleanup: async () => {} };
  const redis = await testRedis(hint);
  return { store: redisStore({ client: redis.client, prefix: redis.prefix }), cleanup: redis.cleanup };
}

export interface ScimTestApp {
  sso: ScimSso;
  app: express.Express;
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

export async function scimTestApp(kind: StoreKind, hint: string, options: ScimSsoOptions = {}): Promise<ScimTestApp> {
  const { store, cleanup } = await makeStore(kind, hint);
  const unexpected: unknown[] = [];
  const sso = scimSso({ ...options, store, onError: (error) => unexpected.push(error) });
  const { token } = await sso.createScimConnection({ customerId: `${hint}-customer` });
  const app = express();
  app.use(sso);
  // One listening server for the whole file, so URLs in responses (Location, meta.location) are stable.
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const auth = { Authorization: `Bearer ${token}` };
  return {
    sso,
    app,
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
