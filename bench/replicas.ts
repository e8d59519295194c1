/**
 * Section "replicas" (docs/redis-deployment.md, "Failover and replicaAcks"): SCIM writes with `replicaAcks`
 * (one replica, 1 s) against without, on a primary and replica of this section's own on this machine, with
 * the write mix of bench/write-mix.ts; and the WAITs the acknowledged writes sent. The replica shares the
 * machine's two cores with the primary and this process, as a local replica would.
 */
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';
import { alternatingWrites, type WriteMixSettings, type WriteTarget } from './write-mix.js';

export interface ReplicaFigures {
  writesPerSecondAcked: number;
  writesPerSecondUnacked: number;
  ratioAckedToUnacked: number;
  /** WAIT commands per acknowledged write: below 1 where concurrent writes shared one. */
  waitsPerAckedWrite: number;
}

/** Resolves once the replica's link to its primary is up (at most 10 s). */
async function linked(replica: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await replica.info('replication')).includes('master_link_status:up')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('bench replicas: the replica never linked to its primary');
}

const waitCalls = async (client: Redis) => Number(/cmdstat_wait:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);

async function target(client: Redis, name: string, acks: boolean): Promise<WriteTarget> {
  const sso = unlimitedSso({
    store: redisStore({ client, prefix: `bench-replicas-${name}:`, ...(acks ? { replicaAcks: { replicas: 1, timeoutMs: 1000 } } : {}) }),
  });
  const { token } = await sso.createScimConnection({ customerId: `replicas-${name}` });
  return { sso, token };
}

export async function runReplicaBench(settings: WriteMixSettings, log: (s: string) => void): Promise<ReplicaFigures> {
  const primary = await startRedis();
  const replica = await startRedis(['--replicaof', '127.0.0.1', new URL(primary.url).port]);
  const client = new Redis(primary.url);
  try {
    await linked(replica.client);
    const acked = await target(client, 'acked', true);
    const unacked = await target(client, 'unacked', false);
    let waitsBefore = 0;
    const rates = await alternatingWrites(acked, unacked, settings, async () => {
      waitsBefore = await waitCalls(client);
    });
    const figures: ReplicaFigures = {
      writesPerSecondAcked: rates.a,
      writesPerSecondUnacked: rates.b,
      ratioAckedToUnacked: rates.a / rates.b,
      waitsPerAckedWrite: ((await waitCalls(client)) - waitsBefore) / rates.writes.a,
    };
    log(`  writes/s with replicaAcks ${rates.a.toFixed(0)}, without ${rates.b.toFixed(0)}`);
    return figures;
  } finally {
    client.disconnect();
    await replica.stop();
    await primary.stop();
  }
}
