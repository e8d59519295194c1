/** An ioredis Cluster client for one test file, on the Redis Cluster provided by global-setup.ts. */
import { randomBytes } from 'node:crypto';
import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { inject } from 'vitest';

export interface TestCluster {
  client: Cluster;
  /** Unique per call: `t:<hint>:<random>:` (no braces: the store's hash tags follow it). */
  prefix: string;
  /** Deletes every key under the prefix on every master, then quits the client. */
  cleanup(): Promise<void>;
}

/** The cluster's nodes, as provided by global-setup.ts (REDIS_CLUSTER_NODES or the cluster it started). */
export function clusterNodes(): { host: string; port: number }[] {
  return inject('redisClusterNodes');
}

/** Connects a Cluster client (ready: slots known) to the test cluster. */
export async function connectCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const client = new Cluster(clusterNodes(), {
    lazyConnect: true,
    ...options,
    redisOptions: { maxRetriesPerRequest: 1, ...options.redisOptions },
  });
  await client.connect();
  return client;
}

/** Every key matching `pattern` on one node (SCAN: fine in tests, never on a request path). */
export async function scanNode(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The keys matching `pattern` on each master, keyed by `host:port`. */
export async function keysByMaster(client: Cluster, pattern: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const node of client.nodes('master')) {
    out.set(`${node.options.host}:${node.options.port}`, (await scanNode(node, pattern)).sort());
  }
  return out;
}

export async function testCluster(hint: string, options: ClusterOptions = {}): Promise<TestCluster> {
  const client = await connectCluster(options);
  const prefix = `t:${hint}:${randomBytes(6).toString('hex')}:`;
  return {
    client,
    prefix,
    async cleanup() {
      for (const node of client.nodes('master')) {
        const keys = await scanNode(node, `${prefix}*`);
        // One key per UNLINK: a multi-key command across slots is a CROSSSLOT error even on one node.
        for (let i = 0; i < keys.length; i += 500) {
          const pipeline = node.pipeline();
          for (const key of keys.slice(i, i + 500)) pipeline.unlink(key);
          await pipeline.exec();
        }
      }
      await client.quit();
    },
  };
}
