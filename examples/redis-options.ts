/**
 * README "Guarantees": the recommended ioredis options. The README shows the region below; the rest makes it
 * a file the typecheck compiles (test/docs/snippets.test.ts). Compiled, never run.
 */
import { Cluster, Redis } from 'ioredis';

declare const url: string;
declare const nodes: { host: string; port: number }[];

// #region options
new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000,
                 retryStrategy: (times) => Math.min(times * 100, 1000) });
new Cluster(nodes, { enableOfflineQueue: false, clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
                     redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 } });
// #endregion options
