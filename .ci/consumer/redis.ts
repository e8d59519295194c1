// The core with the Redis store entry (ioredis installed; no framework). Compiles and loads; no server needed.
import { Redis } from 'ioredis';
import { createScimSso } from 'scim-sso';
import { redisStore } from 'scim-sso/redis';

const client = new Redis({ lazyConnect: true });
const sso = createScimSso({ store: redisStore({ client, prefix: 'consumer-check:' }) });
if (typeof sso.createScimConnection !== 'function') throw new Error('redis: no core API');
client.disconnect();
console.log('redis ok');
