/**
 * The memory store's consumer-group state (src/store/event-consumers.ts): cursors and leases per
 * connection and group, the connections written to lately, and dead letters, in maps of this process.
 */
import { assertGroupName, type EventConsumerStore } from './event-consumers.js';
import { type StoredConnection } from './store.js';
import { assertLeaseArgs } from './store-checks.js';

interface Position {
  cursor: string | null;
  owner: string | null;
  until: number;
}

export interface MemoryEventConsumers {
  /** A write logged events on the connection (called in the write's step). */
  announce(connectionId: string): void;
  /** The connection is gone: so are its cursors and leases. */
  forget(connectionId: string): void;
  methods: EventConsumerStore;
}

export function memoryEventConsumers(now: () => number, connection: (connectionId: string) => StoredConnection | undefined): MemoryEventConsumers {
  const active = new Map<string, number>();
  const positions = new Map<string, Map<string, Position>>();
  const dead = new Map<string, Map<string, string>>();

  const positionOf = (group: string, connectionId: string): Position => {
    let groups = positions.get(connectionId);
    if (!groups) positions.set(connectionId, (groups = new Map()));
    let position = groups.get(group);
    if (!position) groups.set(group, (position = { cursor: null, owner: null, until: 0 }));
    return position;
  };
  const check = assertLeaseArgs;

  return {
    announce: (connectionId) => void active.set(connectionId, now()),
    forget(connectionId) {
      active.delete(connectionId);
      positions.delete(connectionId);
    },
    methods: {
      async activeEventConnections(since) {
        const connections = [...active].filter(([, at]) => at >= since).map(([connectionId, at]) => ({ connectionId, at }));
        return { now: now(), connections };
      },
      async claimEventLease(group, connectionId, owner, ttlMs) {
        check(group, connectionId, owner, ttlMs);
        const record = connection(connectionId);
        if (!record) return null;
        const position = positionOf(group, connectionId);
        if (position.owner !== null && position.owner !== owner && position.until > now()) return null;
        Object.assign(position, { owner, until: now() + ttlMs });
        return { customerId: record.customerId, cursor: position.cursor };
      },
      async commitEventCursor(group, connectionId, owner, ttlMs, cursor) {
        check(group, connectionId, owner, ttlMs);
        const position = positions.get(connectionId)?.get(group);
        if (!position || position.owner !== owner || !connection(connectionId)) return false;
        position.until = now() + ttlMs;
        if (cursor !== undefined) position.cursor = cursor;
        return true;
      },
      async releaseEventLease(group, connectionId, owner) {
        check(group, connectionId, owner);
        const position = positions.get(connectionId)?.get(group);
        if (position?.owner === owner) Object.assign(position, { owner: null, until: 0 });
      },
      async addDeadLetter(group, letter) {
        assertGroupName(group);
        let letters = dead.get(group);
        if (!letters) dead.set(group, (letters = new Map()));
        letters.set(String(letter.id), String(letter.json));
      },
      async listDeadLetters(group) {
        assertGroupName(group);
        return [...(dead.get(group) ?? [])].map(([id, json]) => ({ id, json }));
      },
      async getDeadLetter(group, id) {
        assertGroupName(group);
        const json = dead.get(group)?.get(id);
        return json === undefined ? null : { id, json };
      },
      async removeDeadLetter(group, id) {
        assertGroupName(group);
        return dead.get(group)?.delete(id) ?? false;
      },
    },
  };
}
