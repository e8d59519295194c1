import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/store/memory.js';
import { SETTLE_SLICE } from '../../src/store/memory-members.js';
import { groupWrite, makeConnection, storeContract } from './contract.js';
import { ticksDuring } from '../support/event-loop.js';
import { DROPS_PER_APPEND, MemoryEventLog } from '../../src/store/memory-events.js';
import { EventsExpiredError } from '../../src/store/event-log.js';

storeContract('memory', async (options) => ({ store: memoryStore(options), cleanup: async () => {} }));

describe('memory store: a long member list settles in slices', () => {
  it('lets other callbacks run between slices of a swap and of a deletion (each member moved once)', async () => {
    const store = memoryStore();
    const conn = makeConnection();
    await store.createConnection(conn);
    const members = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}-${i}` }));
    const gid = randomUUID();
    const size = 10 * SETTLE_SLICE;
    expect(await store.createResource(conn.connectionId, groupWrite(gid, 'Big', members('a', size)))).toEqual({ ok: true, version: 1 });

    // The swap removes every member and adds as many: 2 × size reverse entries to move.
    const swap = await ticksDuring(() => store.replaceResource(conn.connectionId, groupWrite(gid, 'Big', members('b', size)), 1));
    expect(swap.result).toMatchObject({ ok: true, version: 2 });
    expect(swap.ticks).toBeGreaterThanOrEqual((2 * size) / SETTLE_SLICE - 1);
    expect(await store.findGroupsWithMember(conn.connectionId, 'a-7')).toEqual([]);
    expect((await store.findGroupsWithMember(conn.connectionId, 'b-7')).map((g) => g.id)).toEqual([gid]);

    const deletion = await ticksDuring(() => store.deleteResource(conn.connectionId, 'Group', gid));
    expect(deletion.result).toBe(true);
    expect(deletion.ticks).toBeGreaterThanOrEqual(size / SETTLE_SLICE - 1);
    expect(await store.findGroupsWithMember(conn.connectionId, 'b-7')).toEqual([]);
  });
});

describe('memory store: the event log ages out a large sync in bounded steps', () => {
  it('drops at most DROPS_PER_APPEND entries per write, and never reads one past the retention', () => {
    const clock = { now: 1_000_000 };
    const log = new MemoryEventLog({ eventRetentionMs: 1_000, maxEventWrites: 1_000_000, maxEventBytes: 1e12 }, () => clock.now);
    const created = { resource: { type: 'user.created', changed: 'all' as const } };
    const none = { removed: [], added: [] };
    for (let i = 0; i < 3 * DROPS_PER_APPEND; i++) log.append('User', `u${i}`, `{"id":"u${i}"}`, created, none);
    const old = log.read(null, 1).next!;
    clock.now += 2_000;
    log.append('User', 'late', '{"id":"late"}', created, none);
    // Held still (the append dropped a bounded share), yet never read: the retention is exact for readers.
    const held = (log as unknown as { entries: unknown[]; head: number }).entries.length - (log as unknown as { head: number }).head;
    expect(held).toBe(3 * DROPS_PER_APPEND + 1 - DROPS_PER_APPEND);
    expect(log.read(null, 10).events.map((e) => e.id)).toEqual(['late']);
    expect(() => log.read(old, 10)).toThrow(EventsExpiredError);
    for (let i = 0; i < 2; i++) log.append('User', `later${i}`, `{"id":"later${i}"}`, created, none);
    expect((log as unknown as { entries: unknown[] }).entries.length - (log as unknown as { head: number }).head).toBe(3);
  });
});
