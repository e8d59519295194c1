/**
 * The SSO half of the in-memory store: SSO connections (OIDC clients and SAML connections), SSO users and
 * the customer list. Records are kept as JSON text, like the Redis store keeps them, so both stores copy (and
 * reject) exactly the same data.
 */
import { ShardedMap } from '../sharded-map.js';
import { mapInChunks } from '../event-loop.js';
import { sortInSlices } from '../sliced-sort.js';
import { byUtf8, seenScore } from '../seen-order.js';
import { OrderedIndex } from './ordered-index.js';
import {
  checkSsoUser,
  earlierTimestamp,
  isSsoSubject,
  namedSsoConnectionMethods,
  OIDC_CLIENT_RECORDS,
  parseSsoUser,
  resolveSsoRecordOptions,
  SAML_CONNECTION_RECORDS,
  SSO_DROPS_PER_RECORD,
  type SsoConnectionKind,
  type SsoConnectionRecords,
  type SsoMethods,
  type SsoRecordOptions,
} from './sso-records.js';
import { type StoredSsoUser } from './store.js';
import { assertCursor, assertPaging, assertStoreId } from './store-checks.js';

/** One SSO user as kept: firstSeenAt apart (the store picks it), lastSeenAt apart (the order), the rest as JSON. */
interface SsoEntry {
  subject: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /** seenScore(lastSeenAt), computed once: the order's key. */
  score: number;
  json: string;
  /** When the subject was first recorded, as a number counting up from 1 per customer: a scan's order and cursor. */
  arrival: number;
  /** The UTF-8 bytes of `<firstSeenAt>\n<json>`, as the Redis store counts its stored value. */
  bytes: number;
}

/** A customer's SSO users. */
interface SsoSpace {
  bySubject: ShardedMap<SsoEntry>;
  /**
   * The entries in the order first recorded: what scans walk, a cursor being the arrival number of the next
   * entry, so one stays valid whatever is dropped meanwhile.
   */
  byArrival: OrderedIndex<SsoEntry>;
  nextArrival: number;
  /** The sum of the entries' bytes. */
  bytes: number;
  /**
   * The entries in listSsoUsers' order (most recently seen first, then by subject: src/seen-order.ts), kept
   * as logins come: O(log n) per login, O(log n + page) per page. Sorting again at the next page read after
   * a login held the loop 0.7 s at 100,000 SSO users.
   */
  order: OrderedIndex<SsoEntry>;
}

const bySeen = (a: SsoEntry, b: SsoEntry): number => a.score - b.score || byUtf8(a.subject, b.subject);

/** SSO users parsed for listSsoUsers at a time, with a yield between batches. */
const PARSE_BATCH = 1_000;

const toUser = (e: SsoEntry): StoredSsoUser => parseSsoUser(e.firstSeenAt, e.json);

const byArrival = (a: SsoEntry, b: SsoEntry): number => a.arrival - b.arrival;

/**
 * Past `max` SSO users or `maxBytes` bytes, drops the least recently seen, never `kept` (the entry just
 * recorded: should it be the least recently seen, the one before it goes); at most SSO_DROPS_PER_RECORD, as
 * the Redis store does (src/store/redis-sso.ts).
 */
function dropLeastSeen(space: SsoSpace, kept: SsoEntry, max: number, maxBytes: number): void {
  for (let i = 0; i < SSO_DROPS_PER_RECORD && (space.bySubject.size > max || space.bytes > maxBytes); i++) {
    const end = space.order.size - 1;
    const rank = space.order.at(end) === kept ? end - 1 : end;
    if (rank < 0) return;
    const last = space.order.at(rank)!;
    space.order.delete(last);
    space.byArrival.delete(last);
    space.bySubject.delete(last.subject);
    space.bytes -= last.bytes;
  }
}

/**
 * In-memory SSO connections (OIDC clients, SAML connections) and SSO users; `connectionCustomers` lists the
 * customers with a SCIM connection.
 */
export function memorySsoMethods(connectionCustomers: () => Iterable<string>, options: SsoRecordOptions = {}): SsoMethods {
  const { maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer } = resolveSsoRecordOptions(options);
  /** customerId → the client as JSON. */
  const clients = new Map<string, string>();
  /** customerId → the SAML connection as JSON (a customer is in `clients` or here, never both). */
  const samls = new Map<string, string>();
  /** customerId → its SSO users. */
  const ssoUsers = new Map<string, SsoSpace>();

  /** One protocol's records (`own`), beside the other protocol's (`other`). */
  function connectionRecords<R extends { customerId: string; updatedAt: string }>(
    kind: SsoConnectionKind<R>,
    own: Map<string, string>,
    other: Map<string, string>,
  ): SsoConnectionRecords<R> {
    return {
      async create(input) {
        const record = kind.check(input);
        if (own.has(record.customerId)) return 'exists';
        if (other.has(record.customerId)) return 'other_protocol';
        own.set(record.customerId, JSON.stringify(record));
        return 'created';
      },
      async get(customerId) {
        assertStoreId('customerId', customerId);
        const json = own.get(customerId);
        return json === undefined ? null : kind.parse(json);
      },
      async replace(input, expectedUpdatedAt) {
        const record = kind.check(input);
        const current = own.get(record.customerId);
        if (current === undefined) return false;
        if (expectedUpdatedAt !== undefined && kind.parse(current).updatedAt !== expectedUpdatedAt) return false;
        own.set(record.customerId, JSON.stringify(record));
        return true;
      },
      async delete(customerId) {
        assertStoreId('customerId', customerId);
        ssoUsers.delete(customerId);
        return own.delete(customerId);
      },
    };
  }

  return {
    ...namedSsoConnectionMethods(connectionRecords(OIDC_CLIENT_RECORDS, clients, samls), connectionRecords(SAML_CONNECTION_RECORDS, samls, clients)),

    async listCustomers() {
      return sortInSlices([...new Set([...connectionCustomers(), ...clients.keys(), ...samls.keys()])]);
    },

    async recordSsoUser(customerId, user) {
      assertStoreId('customerId', customerId);
      const record = checkSsoUser(user);
      let space = ssoUsers.get(customerId);
      if (!space) {
        space = { bySubject: new ShardedMap(), byArrival: new OrderedIndex(byArrival), nextArrival: 1, bytes: 0, order: new OrderedIndex(bySeen) };
        ssoUsers.set(customerId, space);
      }
      const old = space.bySubject.get(record.subject);
      const firstSeenAt = old ? earlierTimestamp(old.firstSeenAt, record.firstSeenAt) : record.firstSeenAt;
      if (old) {
        space.order.delete(old);
        space.byArrival.delete(old);
        space.bytes -= old.bytes;
      }
      const arrival = old ? old.arrival : space.nextArrival++;
      const bytes = Buffer.byteLength(firstSeenAt) + 1 + Buffer.byteLength(record.json);
      const entry = {
        subject: record.subject,
        firstSeenAt,
        lastSeenAt: record.lastSeenAt,
        score: seenScore(record.lastSeenAt),
        json: record.json,
        arrival,
        bytes,
      };
      space.bySubject.set(record.subject, entry);
      space.order.insert(entry);
      space.byArrival.insert(entry);
      space.bytes += bytes;
      dropLeastSeen(space, entry, maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer);
    },

    async listSsoUsers(customerId) {
      assertStoreId('customerId', customerId);
      const space = ssoUsers.get(customerId);
      return space ? mapInChunks(space.order.slice(0, space.order.size), PARSE_BATCH, async (entry) => toUser(entry)) : [];
    },

    async listSsoUserPage(customerId, offset, count) {
      assertStoreId('customerId', customerId);
      assertPaging(offset, count);
      const space = ssoUsers.get(customerId);
      if (!space) return { total: 0, users: [] };
      return {
        total: space.bySubject.size,
        users: space.order.slice(offset, offset + count).map(toUser),
      };
    },

    async scanSsoUsers(customerId, cursor, count) {
      assertStoreId('customerId', customerId);
      assertCursor(cursor);
      assertPaging(0, count);
      const space = ssoUsers.get(customerId);
      if (!space) return { cursor: '0', users: [] };
      // The entries from the cursor's arrival number on, and the one after them (the next cursor).
      const from = space.byArrival.countUpTo({ arrival: Number(cursor) - 1 } as SsoEntry);
      const entries = space.byArrival.slice(from, from + Math.max(1, count) + 1);
      const next = entries.length > Math.max(1, count) ? entries.pop()! : undefined;
      return { cursor: next ? String(next.arrival) : '0', users: entries.map(toUser) };
    },

    async getSsoUser(customerId, subject) {
      assertStoreId('customerId', customerId);
      const entry = isSsoSubject(subject) ? ssoUsers.get(customerId)?.bySubject.get(subject) : undefined;
      return entry ? toUser(entry) : null;
    },
  };
}
