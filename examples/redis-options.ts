/**
 * README "Guarantees": the recommended ioredis options. The README shows the region below; the rest makes it
 * a file the typecheck compiles (test/docs/snippets.test.ts). Compiled, never run.
 */
import { Cluster, Redis } from 'ioredis';

declare const url: string;
declare const nodes: { host: string; port: number }[];

// #region options
const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000,
                               commandTimeout: 2000, retryStrategy: (times) => Math.min(times * 100, 1000) });
await redis.connect(); // without the offline queue, a command sent before the connection is up fails at once
const cluster = new Cluster(nodes, { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
                                     redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 } });
await cluster.connect();
// #endregion options
