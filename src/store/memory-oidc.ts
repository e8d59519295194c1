/**
 * The OIDC half of the in-memory store: OIDC clients, SSO users and the customer list. Records are kept as
 * JSON text, like the Redis store keeps them, so both stores copy (and reject) exactly the same data.
 */
import { ShardedMap } from '../sharded-map.js';
import { mapInChunks, sortInSlices } from '../event-loop.js';
import { byUtf8, seenScore } from '../seen-order.js';
import { OrderedIndex } from './ordered-index.js';
import {
  checkOidcClient,
  checkSamlConnection,
  checkSsoUser,
  earlierTimestamp,
  isSsoSubject,
  parseOidcClient,
  parseSamlConnection,
  parseSsoUser,
  type OidcMethods,
} from './sso-records.js';
import { assertCursor, assertPaging, assertStoreId, type StoredSsoUser } from './store.js';

/** One SSO user as kept: firstSeenAt apart (the store picks it), lastSeenAt apart (the order), the rest as JSON. */
interface SsoEntry {
  subject: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /** seenScore(lastSeenAt), computed once: the order's key. */
  score: number;
  json: string;
}

/** A customer's SSO users. */
interface SsoSpace {
  bySubject: ShardedMap<SsoEntry>;
  /** Subjects in the order first recorded (never removed one by one): what scans walk, by index. */
  arrival: string[];
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

/** In-memory OIDC clients and SSO users; `connectionCustomers` lists the customers with a SCIM connection. */
export function memoryOidcMethods(connectionCustomers: () => Iterable<string>): OidcMethods {
  /** customerId → the client as JSON. */
  const clients = new Map<string, string>();
  /** customerId → the SAML connection as JSON (a customer is in `clients` or here, never both). */
  const samls = new Map<string, string>();
  /** customerId → its SSO users. */
  const ssoUsers = new Map<string, SsoSpace>();

  return {
    async createOidcClient(client) {
      const record = checkOidcClient(client);
      if (clients.has(record.customerId)) return 'exists';
      if (samls.has(record.customerId)) return 'other_protocol';
      clients.set(record.customerId, JSON.stringify(record));
      return 'created';
    },

    async getOidcClient(customerId) {
      assertStoreId('customerId', customerId);
      const json = clients.get(customerId);
      return json === undefined ? null : parseOidcClient(json);
    },

    async replaceOidcClient(client, expectedUpdatedAt) {
      const record = checkOidcClient(client);
      const current = clients.get(record.customerId);
      if (current === undefined) return false;
      if (expectedUpdatedAt !== undefined && parseOidcClient(current).updatedAt !== expectedUpdatedAt) return false;
      clients.set(record.customerId, JSON.stringify(record));
      return true;
    },

    async deleteOidcClient(customerId) {
      assertStoreId('customerId', customerId);
      ssoUsers.delete(customerId);
      return clients.delete(customerId);
    },

    async listCustomers() {
      return sortInSlices([...new Set([...connectionCustomers(), ...clients.keys(), ...samls.keys()])]);
    },

    async createSamlConnection(connection) {
      const record = checkSamlConnection(connection);
      if (samls.has(record.customerId)) return 'exists';
      if (clients.has(record.customerId)) return 'other_protocol';
      samls.set(record.customerId, JSON.stringify(record));
      return 'created';
    },

    async getSamlConnection(customerId) {
      assertStoreId('customerId', customerId);
      const json = samls.get(customerId);
      return json === undefined ? null : parseSamlConnection(json);
    },

    async replaceSamlConnection(connection, expectedUpdatedAt) {
      const record = checkSamlConnection(connection);
      const current = samls.get(record.customerId);
      if (current === undefined) return false;
      if (expectedUpdatedAt !== undefined && parseSamlConnection(current).updatedAt !== expectedUpdatedAt) return false;
      samls.set(record.customerId, JSON.stringify(record));
      return true;
    },

    async deleteSamlConnection(customerId) {
      assertStoreId('customerId', customerId);
      ssoUsers.delete(customerId);
      return samls.delete(customerId);
    },

    async recordSsoUser(customerId, user) {
      assertStoreId('customerId', customerId);
      const record = checkSsoUser(user);
      let space = ssoUsers.get(customerId);
      if (!space) ssoUsers.set(customerId, (space = { bySubject: new ShardedMap(), arrival: [], order: new OrderedIndex(bySeen) }));
      const old = space.bySubject.get(record.subject);
      const firstSeenAt = old ? earlierTimestamp(old.firstSeenAt, record.firstSeenAt) : record.firstSeenAt;
      if (!old) space.arrival.push(record.subject);
      else space.order.delete(old);
      const entry = { subject: record.subject, firstSeenAt, lastSeenAt: record.lastSeenAt, score: seenScore(record.lastSeenAt), json: record.json };
      space.bySubject.set(record.subject, entry);
      space.order.insert(entry);
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
      const from = Number(cursor);
      const to = from + Math.max(1, count);
      const users = space.arrival.slice(from, to).map((subject) => toUser(space.bySubject.get(subject)!));
      return { cursor: to < space.arrival.length ? String(to) : '0', users };
    },

    async getSsoUser(customerId, subject) {
      assertStoreId('customerId', customerId);
      const entry = isSsoSubject(subject) ? ssoUsers.get(customerId)?.bySubject.get(subject) : undefined;
      return entry ? toUser(entry) : null;
    },
  };
}
