/**
 * The OIDC half of the in-memory store: OIDC clients, SSO users and the customer list. Records are kept as
 * JSON text, like the Redis store keeps them, so both stores copy (and reject) exactly the same data.
 */
import { bySeenDescending, checkOidcClient, checkSsoUser, earlierTimestamp, parseOidcClient, parseSsoUser, type OidcMethods } from './sso-records.js';
import { assertStoreId } from './store.js';

/** In-memory OIDC clients and SSO users; `connectionCustomers` lists the customers with a SCIM connection. */
export function memoryOidcMethods(connectionCustomers: () => Iterable<string>): OidcMethods {
  /** customerId → the client as JSON. */
  const clients = new Map<string, string>();
  /** customerId → subject → { firstSeenAt, JSON of the rest }. */
  const ssoUsers = new Map<string, Map<string, { firstSeenAt: string; json: string }>>();

  return {
    async createOidcClient(client) {
      const record = checkOidcClient(client);
      if (clients.has(record.customerId)) return 'exists';
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
      return [...new Set([...connectionCustomers(), ...clients.keys()])].sort();
    },

    async recordSsoUser(customerId, user) {
      assertStoreId('customerId', customerId);
      const record = checkSsoUser(user);
      let users = ssoUsers.get(customerId);
      if (!users) ssoUsers.set(customerId, (users = new Map()));
      const old = users.get(record.subject);
      const firstSeenAt = old ? earlierTimestamp(old.firstSeenAt, record.firstSeenAt) : record.firstSeenAt;
      users.set(record.subject, { firstSeenAt, json: record.json });
    },

    async listSsoUsers(customerId) {
      assertStoreId('customerId', customerId);
      const users = [...(ssoUsers.get(customerId)?.values() ?? [])].map((u) => parseSsoUser(u.firstSeenAt, u.json));
      return users.sort(bySeenDescending);
    },
  };
}
