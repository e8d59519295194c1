import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryStore, SETTLE_SLICE } from '../../src/store/memory.js';
import { groupWrite, makeConnection, storeContract } from './contract.js';
import { ticksDuring } from '../support/event-loop.js';

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
