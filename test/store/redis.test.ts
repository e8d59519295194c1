import { afterAll, beforeAll } from 'vitest';
import { redisStore } from '../../src/store/redis.js';
import { testRedis, type TestRedis } from '../support/redis.js';
import { storeContract } from './contract.js';

let t: TestRedis;
beforeAll(async () => {
  t = await testRedis('store');
});
afterAll(async () => {
  await t.cleanup();
});

let stores = 0;
storeContract('redis', async () => ({
  store: redisStore({ client: t.client, prefix: `${t.prefix}${stores++}:` }),
  cleanup: async () => {},
}));
