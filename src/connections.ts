/**
 * Management of SCIM connections: one per customer, each with a bearer token shown once and stored only
 * as its SHA-256 hash. Token rotation keeps the previous token valid for a grace period, so the new token
 * can be pasted into the IdP without a provisioning outage.
 */
import { randomUUID } from 'node:crypto';
import { ScimSsoConfigError } from './errors.js';
import { generateToken, hashToken } from './scim/auth.js';
import { isValidStoreId, type Store, type StoredConnection } from './store/store.js';
import type { AuditEventType, Emit } from './events.js';

/** A SCIM connection as the app sees it: never the token or its hash. */
export interface ScimConnection {
  connectionId: string;
  customerId: string;
  displayName: string | null;
  createdAt: string;
  /** When the previous token stops working, if a rotation left one valid. */
  previousTokenExpiresAt: string | null;
  /** The OIDC client of the same customer (paired), or null when there is none. */
  oidcClientId: string | null;
}

export interface CreatedScimConnection {
  connectionId: string;
  customerId: string;
  /** The bearer token to paste into the IdP. Returned only here; scim-sso keeps only its hash. */
  token: string;
}

/** Shortest and longest bring-your-own token, and the fewest distinct characters it must use. */
export const BYO_TOKEN_MIN_LENGTH = 32;
export const BYO_TOKEN_MAX_LENGTH = 1024;
export const BYO_TOKEN_MIN_DISTINCT = 8;

/**
 * Checks a bring-your-own SCIM token: 32–1024 printable ASCII characters without spaces (what an IdP's
 * token field and an `Authorization` header carry safely), using at least 8 distinct characters (refuses
 * `aaaa…`, `abab…` and similar placeholders). A floor against obvious mistakes, not an entropy proof:
 * generated tokens (256 random bits) remain the recommendation.
 */
function checkByoToken(token: unknown): string {
  if (
    typeof token !== 'string' ||
    token.length < BYO_TOKEN_MIN_LENGTH ||
    token.length > BYO_TOKEN_MAX_LENGTH ||
    !/^[\x21-\x7e]+$/.test(token) ||
    new Set(token).size < BYO_TOKEN_MIN_DISTINCT
  ) {
    throw new ScimSsoConfigError(
      'invalid_argument',
      `token must be ${BYO_TOKEN_MIN_LENGTH}–${BYO_TOKEN_MAX_LENGTH} printable ASCII characters without spaces, using at least ${BYO_TOKEN_MIN_DISTINCT} distinct characters`,
    );
  }
  return token;
}

const tokenInUse = () => new ScimSsoConfigError('token_in_use', 'this token is already in use by another SCIM connection; choose another token');

/** The longest overlap of an old and a new token after a rotation. */
export const MAX_GRACE_SECONDS = 30 * 24 * 60 * 60;

/**
 * Checks a customer id chosen by the app: 1–200 characters, no whitespace, braces or control characters, and
 * not `.` or `..`: the id is a path segment of the login, dashboard and setup URLs, and browsers drop those
 * two segments (even percent-encoded), so such a customer's pages could not be reached and its setup link
 * would land on another route of the app.
 */
export function checkCustomerId(customerId: unknown): string {
  // The stores' own rule (isValidStoreId: 200 UTF-16 units), so an id accepted here is never refused there.
  if (!isValidStoreId(customerId) || customerId === '.' || customerId === '..') {
    throw new ScimSsoConfigError(
      'invalid_argument',
      'customerId must be a string of 1–200 characters (UTF-16 code units) without whitespace, "{", "}" or control characters, and not "." or ".."',
    );
  }
  return customerId;
}

function toPublic(connection: StoredConnection, oidcClientId: string | null): ScimConnection {
  const previousValid = connection.previousTokenExpiresAt !== null && connection.previousTokenExpiresAt > Date.now();
  return {
    connectionId: connection.connectionId,
    customerId: connection.customerId,
    displayName: connection.displayName,
    createdAt: connection.createdAt,
    previousTokenExpiresAt: previousValid ? new Date(connection.previousTokenExpiresAt!).toISOString() : null,
    oidcClientId,
  };
}

export function connectionManager(store: Store, emit: Emit = () => {}) {
  const audit = (type: AuditEventType, customerId: string, connectionId: string) =>
    emit({ type, actor: 'admin', outcome: 'success', customerId, connectionId });

  /**
   * Finishes the customer's connection deletes that were interrupted (a Redis delete sweeps in batches;
   * its caller may die part way, leaving the data with no way from the customer to it). True if any.
   */
  async function finishUnfinishedDeletes(customerId: string): Promise<boolean> {
    const ids = (await store.unfinishedConnectionDeletes?.(customerId)) ?? [];
    for (const connectionId of ids) {
      await store.deleteConnection(connectionId);
      audit('connection.deleted', customerId, connectionId);
    }
    return ids.length > 0;
  }

  async function existing(customerId: string): Promise<StoredConnection> {
    const connection = await store.getConnectionByCustomer(checkCustomerId(customerId));
    if (!connection) throw new ScimSsoConfigError('connection_not_found', `customer "${customerId}" has no SCIM connection`);
    return connection;
  }

  return {
    /** Creates the customer's SCIM connection; a second one for the same customer is an error. */
    async createScimConnection(input: {
      customerId: string;
      displayName?: string;
      /** Bring your own token (e.g. when migrating from another SCIM server); see checkByoToken. Default: a new random one. */
      token?: string;
    }): Promise<CreatedScimConnection> {
      const customerId = checkCustomerId(input?.customerId);
      if (input.displayName !== undefined && typeof input.displayName !== 'string') {
        throw new ScimSsoConfigError('invalid_argument', 'displayName must be a string');
      }
      const token = input.token === undefined ? generateToken() : checkByoToken(input.token);
      const connection: StoredConnection = {
        connectionId: randomUUID(),
        customerId,
        displayName: input.displayName ?? null,
        tokenHash: hashToken(token),
        previousTokenHash: null,
        previousTokenExpiresAt: null,
        createdAt: new Date().toISOString(),
      };
      // The data of a delete that was interrupted goes first: it would otherwise stay, unreachable.
      await finishUnfinishedDeletes(customerId);
      const created = await store.createConnection(connection);
      if (created === 'exists') {
        throw new ScimSsoConfigError('connection_exists', `customer "${customerId}" already has a SCIM connection`);
      }
      if (created === 'token_in_use') throw tokenInUse();
      audit('connection.created', customerId, connection.connectionId);
      return { connectionId: connection.connectionId, customerId, token };
    },

    /** The customer's SCIM connection, or null. */
    async fetchScimConnection(customerId: string): Promise<ScimConnection | null> {
      checkCustomerId(customerId);
      const [connection, client] = await Promise.all([store.getConnectionByCustomer(customerId), store.getOidcClient(customerId)]);
      return connection ? toPublic(connection, client?.oidcClientId ?? null) : null;
    },

    /**
     * Deletes the connection with all its users and groups; false if there was none. Also finishes an earlier
     * delete of the customer's that was interrupted (then true).
     */
    async deleteScimConnection(customerId: string): Promise<boolean> {
      const connection = await store.getConnectionByCustomer(checkCustomerId(customerId));
      const unfinished = await finishUnfinishedDeletes(customerId);
      if (!connection) return unfinished;
      const deleted = await store.deleteConnection(connection.connectionId);
      audit('connection.deleted', customerId, connection.connectionId);
      return deleted;
    },

    /**
     * Issues a new token (or installs `token`, a bring-your-own one, checked like at creation). The old one
     * keeps working for `graceSeconds` (default 0: it stops at once), so the IdP can be updated without
     * failed provisioning runs in between. Linearisable: of concurrent rotations (on any instance), exactly
     * one wins; the others throw `rotation_conflict` and change nothing, so every token returned works.
     */
    async rotateScimToken(customerId: string, options: { graceSeconds?: number; token?: string } = {}): Promise<CreatedScimConnection> {
      const grace = options.graceSeconds ?? 0;
      if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
        throw new ScimSsoConfigError('invalid_argument', `graceSeconds must be an integer from 0 to ${MAX_GRACE_SECONDS} (30 days)`);
      }
      const token = options.token === undefined ? generateToken() : checkByoToken(options.token);
      const connection = await existing(customerId);
      const updated = await store.updateConnectionTokens(
        connection.connectionId,
        {
          tokenHash: hashToken(token),
          previousTokenHash: grace > 0 ? connection.tokenHash : null,
          previousTokenExpiresAt: grace > 0 ? Date.now() + grace * 1000 : null,
        },
        connection.tokenHash,
      );
      if (!updated.ok) {
        if (updated.reason === 'token_in_use') throw tokenInUse();
        if (updated.reason === 'token_changed') {
          throw new ScimSsoConfigError(
            'rotation_conflict',
            `the SCIM token of customer "${customerId}" was rotated concurrently; this rotation was not applied (rotate again to replace the new token)`,
          );
        }
        throw new ScimSsoConfigError('connection_not_found', `customer "${customerId}" has no SCIM connection`);
      }
      audit('connection.token_rotated', connection.customerId, connection.connectionId);
      return { connectionId: connection.connectionId, customerId: connection.customerId, token };
    },
  };
}
