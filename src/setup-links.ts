/**
 * Setup links for the self-serve setup portal (docs/setup-portal.md): a URL the app hands to a customer's IT
 * admin, carrying an unguessable token (256 random bits) that the store keeps only as its SHA-256 hash. The
 * link is the credential: scoped to one customer and to what it allows (`sso`, `scim`), valid until it
 * expires, and revocable for the whole customer at once (revokeSetupLinks also ends portal sessions).
 */
import { createHash, randomBytes } from 'node:crypto';
import { checkCustomerId } from './connections.js';
import { ScimSsoConfigError } from './errors.js';
import type { Emit } from './events.js';
import type { Store } from './store/store.js';
import { SETUP_AREAS, type SetupArea } from './store/setup-grants.js';
import { withoutTrailingSlashes } from './url-segment.js';

export type { SetupArea } from './store/setup-grants.js';

/** Default lifetime of a setup link: 72 hours (long enough for an admin to come back the next day). */
export const DEFAULT_SETUP_LINK_SECONDS = 72 * 60 * 60;
/** Longest lifetime of a setup link: 30 days. */
export const MAX_SETUP_LINK_SECONDS = 30 * 24 * 60 * 60;
/** Shortest: 1 minute. */
export const MIN_SETUP_LINK_SECONDS = 60;

export interface CreateSetupLinkOptions {
  /** Lifetime in seconds, 60 to 2,592,000 (30 days). Default 259,200 (72 hours). */
  expiresIn?: number;
  /** What the admin may set up. Default both: ['sso', 'scim']. */
  allow?: SetupArea[];
  /** The portal's absolute URL for this link, overriding the `setupPortalUrl` option. */
  portalUrl?: string;
}

export interface SetupLink {
  /** The URL to send to the customer's IT admin: `<portal URL>/<customerId>/link/<token>`. Shown once: only its hash is kept. */
  url: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** The link token's form: `setup_` and 43 base64url characters. */
export const SETUP_TOKEN = /^setup_[A-Za-z0-9_-]{43}$/;

export const hashSetupSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');
export const newSetupSecret = (): string => `setup_${randomBytes(32).toString('base64url')}`;

/** Checks the portal URL: absolute http(s), no query or fragment; returned without a trailing slash. */
export function checkPortalUrl(value: unknown, where: string): string {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new ScimSsoConfigError(
      'invalid_argument',
      `${where}: the setup portal URL must be an absolute http(s) URL without query or fragment, e.g. 'https://app.example.com/setup'`,
    );
  }
  return withoutTrailingSlashes(url.href);
}

/** The customer's part of the portal's URLs: `<portal>/<customerId>`. */
export const portalCustomerUrl = (portalUrl: string, customerId: string): string => `${portalUrl}/${encodeURIComponent(customerId)}`;

function checkAllow(allow: unknown): SetupArea[] {
  if (allow === undefined) return [...SETUP_AREAS];
  if (!Array.isArray(allow) || allow.length === 0 || allow.length > 2 || !allow.every((a) => SETUP_AREAS.includes(a)) || new Set(allow).size !== allow.length) {
    throw new ScimSsoConfigError('invalid_argument', "createSetupLink: allow must list 'sso' and/or 'scim'");
  }
  return [...(allow as SetupArea[])];
}

export function setupLinkManager(store: Store, portalUrl: string | undefined, emit: Emit) {
  return {
    async createSetupLink(customerId: string, options: CreateSetupLinkOptions = {}): Promise<SetupLink> {
      checkCustomerId(customerId);
      const seconds = options.expiresIn ?? DEFAULT_SETUP_LINK_SECONDS;
      if (!Number.isInteger(seconds) || seconds < MIN_SETUP_LINK_SECONDS || seconds > MAX_SETUP_LINK_SECONDS) {
        throw new ScimSsoConfigError(
          'invalid_argument',
          `createSetupLink: expiresIn must be whole seconds from ${MIN_SETUP_LINK_SECONDS} to ${MAX_SETUP_LINK_SECONDS} (30 days)`,
        );
      }
      const allow = checkAllow(options.allow);
      const base = options.portalUrl ?? portalUrl;
      if (base === undefined) {
        throw new ScimSsoConfigError(
          'invalid_argument',
          "createSetupLink: where is the portal? Set the scimSso option setupPortalUrl (e.g. 'https://app.example.com/setup') or pass { portalUrl }",
        );
      }
      const url = checkPortalUrl(base, 'createSetupLink');
      const token = newSetupSecret();
      const createdAt = Date.now();
      const expiresAt = createdAt + seconds * 1000;
      await store.putSetupGrant({ hash: hashSetupSecret(token), kind: 'link', customerId, allow, createdAt, expiresAt, linkHash: null });
      emit({ type: 'setup_link.created', actor: 'admin', outcome: 'success', customerId, connectionId: null });
      return { url: `${portalCustomerUrl(url, customerId)}/link/${token}`, expiresAt: new Date(expiresAt).toISOString() };
    },

    /** Revokes every setup link of the customer and ends the portal sessions opened with them. */
    async revokeSetupLinks(customerId: string): Promise<void> {
      checkCustomerId(customerId);
      await store.revokeSetupGrants(customerId);
      emit({ type: 'setup_link.revoked', actor: 'admin', outcome: 'success', customerId, connectionId: null });
    },
  };
}
