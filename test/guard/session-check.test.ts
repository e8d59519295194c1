/**
 * The session check (src/guard/session-check.ts) reads a person's JSON only when their version moved since
 * the last check: a user's JSON may be 1 MB, and requireActiveUser runs on every request of the app.
 * Deactivation and deletion still end the session at the next request, whatever was remembered.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSession } from '../../src/guard/session-check.js';
import { memoryStore } from '../../src/store/memory.js';
import type { SessionUserRead, Store } from '../../src/store/store.js';
import { makeConnection, userWrite } from '../store/contract.js';

/** A memory store that keeps what each readSessionUser answered. */
function watchedStore(): { store: Store; reads: (SessionUserRead | null)[] } {
  const store = memoryStore();
  const reads: (SessionUserRead | null)[] = [];
  const readSessionUser: Store['readSessionUser'] = async (...args) => {
    const read = await store.readSessionUser(...args);
    reads.push(read);
    return read;
  };
  return { store: Object.assign(Object.create(store) as Store, { readSessionUser }), reads };
}

describe('the session check', () => {
  it('reads the JSON again only once the version moved, and ends the session at deactivation and deletion', async () => {
    const { store, reads } = watchedStore();
    const connection = makeConnection();
    await store.createConnection(connection);
    const id = randomUUID();
    const json = (active: boolean) => JSON.stringify({ id, userName: 'ann', active });
    expect(await store.createResource(connection.connectionId, userWrite(id, 'ann', { json: json(true) }))).toMatchObject({ ok: true });
    const ref = { customerId: connection.customerId, connectionId: connection.connectionId, scimUserId: id };

    expect(await checkSession(store, ref)).toMatchObject({ active: true });
    expect(await checkSession(store, ref)).toMatchObject({ active: true });
    expect(reads.map((r) => r?.json === null)).toEqual([false, true]);

    expect(await store.replaceResource(connection.connectionId, userWrite(id, 'ann', { json: json(false) }), 1)).toMatchObject({ ok: true });
    expect(await checkSession(store, ref)).toEqual({ active: false, reason: 'deactivated' });
    expect(await checkSession(store, ref)).toEqual({ active: false, reason: 'deactivated' });
    expect(reads.slice(2).map((r) => r?.json === null)).toEqual([false, true]);

    expect(await store.replaceResource(connection.connectionId, userWrite(id, 'ann', { json: json(true) }), 2)).toMatchObject({ ok: true });
    expect(await checkSession(store, ref)).toMatchObject({ active: true });
    await store.deleteResource(connection.connectionId, 'User', id);
    expect(await checkSession(store, ref)).toEqual({ active: false, reason: 'deleted' });
  });

  it('remembers versions per store: another store with the same ids is read whole', async () => {
    const first = watchedStore();
    const second = watchedStore();
    const connection = makeConnection();
    const id = randomUUID();
    for (const [{ store }, active] of [
      [first, true],
      [second, false],
    ] as const) {
      await store.createConnection(connection);
      await store.createResource(connection.connectionId, userWrite(id, 'ann', { json: JSON.stringify({ id, userName: 'ann', active }) }));
    }
    const ref = { customerId: connection.customerId, connectionId: connection.connectionId, scimUserId: id };
    expect(await checkSession(first.store, ref)).toMatchObject({ active: true });
    expect(await checkSession(second.store, ref)).toEqual({ active: false, reason: 'deactivated' });
    expect(second.reads[0]?.json).not.toBeNull();
  });
});
