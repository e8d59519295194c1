/**
 * Section "groups": one group grown to 100,000 members (`--quick`: 10,000) on the scim-redis server with
 * PATCHes of 1,000 members (every answer must be 204: a 5xx fails the phase), and at the smallest and the
 * largest size: one-member PATCH add and remove p50, GET /Groups/{id}?excludedAttributes=members p50, and
 * the Redis bytes per member. Targets (issue 11): p50 at the largest size ≤ 2× the p50 at 1,000 members.
 * Member values are 36-character ids without user records (Entra sends values only); the one-member
 * PATCHes add and remove a real user, so its version bump is part of what is measured. See docs/groups.md.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Server } from './servers.js';

export interface GroupScaleSettings {
  /** Member counts to measure at, ascending; the group grows from one to the next. */
  sizes: number[];
  /** Sequential requests per measurement (each of add, remove, GET). */
  iterations: number;
}

export interface GroupScaleRow {
  members: number;
  addP50: number;
  removeP50: number;
  getP50: number;
  /** MEMORY USAGE of the group's member keys, per member. */
  keyBytesPerMember: number;
  /** Growth of Redis used_memory while the group grew (member keys + reverse index), per member added. */
  usedBytesPerMember: number;
  /** Seconds the growth took, and how many PATCHes (of ≤ 1,000) it sent. */
  buildSeconds: number;
  patches: number;
}

export interface GroupScaleResult {
  rows: GroupScaleRow[];
  ratios: { addP50: number; removeP50: number; getP50: number } | null;
  failure: string | null;
}

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CHUNK = 1000;

const p50 = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** A 36-character member id that no user holds. */
const memberId = (n: number) => `m-${String(n).padStart(10, '0')}-${'x'.repeat(23)}`;

export async function runGroupScale(allServers: Server[], redis: Redis, settings: GroupScaleSettings, log: (s: string) => void): Promise<GroupScaleResult> {
  const server = allServers.find((s) => s.name === 'scim-redis');
  if (!server) return { rows: [], ratios: null, failure: 'no scim-redis server in this run' };
  await server.child.call('reset');
  const tag = await server.child.call<string>('connectionTag');
  const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' };
  const request = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, text, ms: performance.now() - started };
  };
  const expectStatus = (what: string, got: { status: number; text: string }, want: number) => {
    if (got.status !== want) throw new Error(`${what} answered ${got.status} (expected ${want}): ${got.text.slice(0, 200)}`);
  };

  const rows: GroupScaleRow[] = [];
  try {
    const user = await request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `group-bench-${randomUUID()}@example.com`,
    });
    expectStatus('POST /Users', user, 201);
    const userId = (JSON.parse(user.text) as { id: string }).id;
    const group = await request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'All employees' });
    expectStatus('POST /Groups', group, 201);
    const gid = (JSON.parse(group.text) as { id: string }).id;
    const memberKeys = [`${tag}g:mz:${gid}`, `${tag}g:mm:${gid}`];
    let size = 0;
    for (const target of settings.sizes) {
      const usedBefore = await usedMemory(redis);
      const t0 = performance.now();
      let patches = 0;
      const grownFrom = size;
      while (size < target) {
        const n = Math.min(CHUNK, target - size);
        const value = Array.from({ length: n }, (_, i) => ({ value: memberId(size + i) }));
        const res = await request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value }] });
        expectStatus(`PATCH add ${n} members at ${size}`, res, 204);
        size += n;
        patches++;
      }
      const buildSeconds = (performance.now() - t0) / 1000;
      const usedAfter = await usedMemory(redis);
      const keyBytes = (await Promise.all(memberKeys.map((k) => redis.memory('USAGE', k, 'SAMPLES', 0)))).reduce<number>((a, b) => a + Number(b ?? 0), 0);
      const add: number[] = [];
      const remove: number[] = [];
      const get: number[] = [];
      const one = [{ value: userId }];
      // The first rounds are warm-up (JIT, connection pool), not measured.
      const warmup = Math.min(20, settings.iterations);
      for (let i = -warmup; i < settings.iterations; i++) {
        const keep = i >= 0;
        const a = await request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: one }] });
        expectStatus('PATCH add one member', a, 204);
        if (keep) add.push(a.ms);
        const r = await request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] });
        expectStatus('PATCH remove one member', r, 204);
        if (keep) remove.push(r.ms);
        const g = await request('GET', `/Groups/${gid}?excludedAttributes=members`);
        expectStatus('GET without members', g, 200);
        if (keep) get.push(g.ms);
      }
      const row: GroupScaleRow = {
        members: size,
        addP50: p50(add),
        removeP50: p50(remove),
        getP50: p50(get),
        keyBytesPerMember: keyBytes / size,
        usedBytesPerMember: (usedAfter - usedBefore) / Math.max(1, size - grownFrom),
        buildSeconds,
        patches,
      };
      rows.push(row);
      log(
        `  ${String(size).padStart(7)} members (grown in ${buildSeconds.toFixed(1)} s, ${patches} PATCHes): ` +
          `add p50 ${row.addP50.toFixed(2)} ms, remove p50 ${row.removeP50.toFixed(2)} ms, GET without members p50 ${row.getP50.toFixed(2)} ms, ` +
          `${row.keyBytesPerMember.toFixed(0)} B/member in its keys, ${row.usedBytesPerMember.toFixed(0)} B/member used_memory`,
      );
    }
  } catch (error) {
    return { rows, ratios: null, failure: (error as Error).message };
  }
  const [small, large] = [rows[0], rows[rows.length - 1]];
  const ratios =
    small && large ? { addP50: large.addP50 / small.addP50, removeP50: large.removeP50 / small.removeP50, getP50: large.getP50 / small.getP50 } : null;
  return { rows, ratios, failure: null };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

/** The section's table. */
export function groupTable(result: GroupScaleResult): string {
  const f = (n: number) => (Number.isNaN(n) ? '—' : n.toFixed(2));
  const lines = [
    '| members | PATCH add p50 ms | PATCH remove p50 ms | GET w/o members p50 ms | bytes/member (keys) | bytes/member (used_memory) |',
    '|--------:|-----------------:|--------------------:|-----------------------:|--------------------:|---------------------------:|',
    ...result.rows.map(
      (r) => `| ${r.members} | ${f(r.addP50)} | ${f(r.removeP50)} | ${f(r.getP50)} | ${r.keyBytesPerMember.toFixed(0)} | ${r.usedBytesPerMember.toFixed(0)} |`,
    ),
  ];
  if (result.ratios) {
    lines.push(
      '',
      `p50 largest / smallest (target ≤ 2): add ${f(result.ratios.addP50)}, remove ${f(result.ratios.removeP50)}, GET without members ${f(result.ratios.getP50)}`,
    );
  }
  if (result.failure) lines.push('', `FAILED: ${result.failure}`);
  return lines.join('\n');
}
