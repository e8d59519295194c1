/**
 * The options of `scimSso(...)`: one zod schema, parsed once in the factory. Unknown keys are rejected
 * with a "did you mean" hint, because a misspelt option silently ignored is a security bug waiting.
 */
import { z } from 'zod';
import { ScimSsoConfigError } from './errors.js';
import type { Store } from './store/store.js';
import type { AuditEvent } from './events.js';
import { DEFAULT_ACTIVITY_LOG } from './activity/recorder.js';

/** The default per-connection quotas (see docs/storage-limits.md for the sizing). */
export const DEFAULT_QUOTA = {
  maxUsers: 2_000_000,
  maxGroups: 200_000,
  maxBytes: 8 * 1024 ** 3,
  maxGroupsPerMember: 1_000,
  maxResourcesPerValue: 100,
} as const;

const storeSchema = z.custom<Store>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['createConnection', 'findConnectionByTokenHash', 'createResource', 'listPage'].every(
      (method) => typeof (value as Record<string, unknown>)[method] === 'function',
    ),
  { message: 'store must be a scim-sso Store, e.g. memoryStore() or redisStore({ client })' },
);

export const optionsSchema = z.strictObject({
  /** Where SCIM data lives. Default: memoryStore() (one process only; use redisStore in production). */
  store: storeSchema.optional(),
  /** Path under which the SCIM routes are mounted. Default: '/scim/v2'. */
  basePath: z
    .string()
    .regex(/^\/[A-Za-z0-9/._~-]*$/, 'basePath must start with "/" and contain only URL path characters')
    .default('/scim/v2'),
  /** Page size when a client sends no `count`. Default: 100. */
  defaultPageSize: z.number().int().min(1).max(10_000).default(100),
  /** Largest page ever returned, whatever `count` asks (advertised as filter.maxResults). Default: 1000. */
  maxPageSize: z.number().int().min(1).max(10_000).default(1000),
  maxScanResources: z.number().int().min(1).default(50_000),
  /** Largest accepted request body in bytes; larger bodies get 413. Default: 1_000_000 (1 MB). */
  maxBodyBytes: z.number().int().min(1024).default(1_000_000),
  /** Longest accepted `filter`, in characters. Default: 4096. */
  maxFilterLength: z.number().int().min(16).default(4096),
  /** Deepest accepted nesting of a filter (parentheses, `not`, brackets). Default: 32. */
  maxFilterDepth: z.number().int().min(1).max(256).default(32),
  /** Most operations accepted in one PATCH. Default: 1000. */
  maxPatchOperations: z.number().int().min(1).default(1000),
  /**
   * Per-connection quotas, enforced by the store in the script (or step) that writes: a create or a growing
   * update over one is answered 507 with a SCIM error (writes through other instances may pass one by what
   * they add while a chunked member write is under way: docs/storage-limits.md); updates that shrink and deletes always pass. `maxBytes` counts the
   * stored JSON, index values and group members (see docs/storage-limits.md). Default: { maxUsers:
   * 2_000_000, maxGroups: 200_000, maxBytes: 8 GiB }: twice what a 1,000,000-user enterprise needs.
   * `maxGroupsPerMember` (default 1,000) bounds the groups one member may join: every read of a user
   * derives its groups, so it bounds what one user costs each read (docs/groups.md).
   * `maxResourcesPerValue` (default 100) bounds the users (or groups) one externalId, email or userName
   * local part lists: more may share it, but a lookup by such a crowded value is refused instead of reading
   * every holder (docs/storage-limits.md, "Crowded values").
   */
  quota: z
    .strictObject({
      maxUsers: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_QUOTA.maxUsers),
      maxGroups: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_QUOTA.maxGroups),
      maxBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_QUOTA.maxBytes),
      maxGroupsPerMember: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_QUOTA.maxGroupsPerMember),
      maxResourcesPerValue: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_QUOTA.maxResourcesPerValue),
    })
    .default(DEFAULT_QUOTA),
  /** `Retry-After` seconds sent with a 503 when the store is unreachable. Default: 5. */
  retryAfterSeconds: z.number().int().min(1).default(5),
  /**
   * Whether every SCIM write appends durable provisioning events to the store, atomically with the write,
   * for `sso.events` (docs/events.md). The `onEvent` audit trail is independent of it. Default: true.
   */
  durableEvents: z.boolean().default(true),
  /**
   * How long (ms) this process trusts a SCIM token it found current in the store, without asking again
   * (src/scim/auth.ts). A token rotated away or a connection deleted through another instance stops working
   * here within this time; through this instance, at once. 0: every request reads the token from the store.
   * Default: 5000 (docs/round-trips.md).
   */
  scimTokenCacheMs: z.number().int().min(0).max(3_600_000).default(5000),
  /**
   * Absolute URL of the SCIM base as clients see it (e.g. `https://api.example.com/scim/v2`), used in
   * `Location` and `meta.location`. Default: derived from each request's protocol and Host header.
   */
  publicBaseUrl: z.url().optional(),
  /**
   * Absolute URL where the app mounts the self-serve setup portal (e.g. `https://app.example.com/setup`):
   * setup links, the portal's test-login redirect URI and its default login redirect URI are built on it
   * (docs/setup-portal.md). Default: none (createSetupLink then needs `{ portalUrl }`).
   */
  setupPortalUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Accept `http://` OIDC issuers. For tests and local demo IdPs only — never in production, where tokens
   * would travel in clear. Default: false.
   */
  allowHttpIssuers: z.boolean().default(false),
  /**
   * Let requests to IdPs (OIDC discovery, JWKS, token, userinfo; SAML metadata URLs; the setup portal's live
   * check) reach loopback, private and link-local addresses. Off, they reach public addresses only, so an
   * issuer a customer types cannot make the app's servers call an internal host (src/net/outbound-fetch.ts).
   * Turn it on for IdPs on the app's own network. `allowHttpIssuers` implies it. Default: false.
   */
  allowPrivateIdpAddresses: z.boolean().default(false),
  /**
   * Per-connection SCIM rate limit in this process: sustained requests per second and burst. Over it,
   * 429 with an integer Retry-After. `false` turns it off. Default: { requestsPerSecond: 200, burst: 400 }.
   */
  rateLimit: z
    .union([z.literal(false), z.strictObject({ requestsPerSecond: z.number().positive(), burst: z.number().int().min(1) })])
    .default({ requestsPerSecond: 200, burst: 400 }),
  /**
   * Whether the email matching strategies need `email_verified` to be true, i.e. an absent claim counts as
   * unverified (`true`, or `"true"` in any case, is verified; any other value is unverified either way).
   * Entra never sends the claim: leave this off for Entra customers, or set it per OIDC client
   * (`requireVerifiedEmail` on the client wins over this default). Default: false.
   */
  requireVerifiedEmail: z.boolean().default(false),
  /**
   * The customers' activity log (docs/activity.md): recent SCIM requests and refused logins per customer,
   * written in batches off the request path. `false` turns it off. Default: { maxRequests: 200, maxLogins:
   * 100, flushIntervalMs: 1000, retentionMs: 30 days }.
   */
  activityLog: z
    .union([
      z.literal(false),
      z.strictObject({
        maxRequests: z.number().int().min(1).max(10_000).default(DEFAULT_ACTIVITY_LOG.maxRequests),
        maxLogins: z.number().int().min(1).max(10_000).default(DEFAULT_ACTIVITY_LOG.maxLogins),
        flushIntervalMs: z.number().int().min(10).max(60_000).default(DEFAULT_ACTIVITY_LOG.flushIntervalMs),
        retentionMs: z
          .number()
          .int()
          .min(60_000)
          .max(365 * 24 * 3600_000)
          .default(DEFAULT_ACTIVITY_LOG.retentionMs),
      }),
    ])
    .default(DEFAULT_ACTIVITY_LOG),
  /** Receives the audit trail: every SCIM write, refusal, login decision and management change. Default: none. */
  onEvent: z.custom<(event: AuditEvent) => void>((v) => typeof v === 'function').optional(),
  /** Receives unexpected errors (answered 500 without details). Default: console.error. */
  onError: z.custom<(error: unknown) => void>((v) => typeof v === 'function').optional(),
});

/** The options of `scimSso(...)` / `createScimSso(...)`; every one is optional (see optionsSchema above for the details). */
export interface ScimSsoOptions {
  /**
   * Where SCIM data lives: `redisStore({ client })` (from 'scim-sso/redis') or `memoryStore()`. Default:
   * memoryStore(), except with NODE_ENV=production, where leaving it out throws ScimSsoConfigError.
   */
  store?: Store;
  /** Path under which the SCIM routes are mounted. Default: '/scim/v2'. */
  basePath?: string;
  /** Page size when a client sends no `count`. Default: 100. */
  defaultPageSize?: number;
  /** Largest page ever returned. Default: 1000. */
  maxPageSize?: number;
  /**
   * Most resources a filter no index answers, or a `sortBy` no sort index answers, may scan in one request,
   * and the work such a scan may do: 50 units per resource (docs/limits.md, "How a scan's work is counted");
   * a connection holding more, or a scan doing more, answers such a request 400 `tooMany`, naming the filters
   * and the sortable attributes that are answered from an index. Default: 50_000.
   */
  maxScanResources?: number;
  /** Largest accepted request body in bytes (413 above). Default: 1_000_000. */
  maxBodyBytes?: number;
  /** Longest accepted `filter`, in characters. Default: 4096. */
  maxFilterLength?: number;
  /** Deepest accepted nesting of a filter. Default: 32. */
  maxFilterDepth?: number;
  /** Most operations accepted in one PATCH. Default: 1000. */
  maxPatchOperations?: number;
  /**
   * Per-connection quotas (507 over them). Default: { maxUsers: 2_000_000, maxGroups: 200_000, maxBytes: 8 GiB,
   * maxGroupsPerMember: 1_000, maxResourcesPerValue: 100 }.
   */
  quota?: { maxUsers?: number; maxGroups?: number; maxBytes?: number; maxGroupsPerMember?: number; maxResourcesPerValue?: number };
  /** `Retry-After` seconds sent with a 503. Default: 5. */
  retryAfterSeconds?: number;
  /** Whether SCIM writes append durable provisioning events for `sso.events` (docs/events.md). Default: true. */
  durableEvents?: boolean;
  /** How long (ms) a SCIM token found current is trusted without the store; 0 turns that off. Default: 5000. */
  scimTokenCacheMs?: number;
  /** Absolute URL of the SCIM base as clients see it. Default: derived from each request. */
  publicBaseUrl?: string;
  /** Absolute URL where the setup portal is mounted (setup links are built on it). Default: none. */
  setupPortalUrl?: string;
  /** Accept `http://` OIDC issuers (tests and local demo IdPs only). Default: false. */
  allowHttpIssuers?: boolean;
  /** Let requests to IdPs reach loopback and private addresses (IdPs on the app's own network). Default: false. */
  allowPrivateIdpAddresses?: boolean;
  /** Per-connection SCIM rate limit in this process, or false. Default: { requestsPerSecond: 200, burst: 400 }. */
  rateLimit?: false | { requestsPerSecond: number; burst: number };
  /** Whether the email strategies need `email_verified` true (a client's own setting wins). Default: false. */
  requireVerifiedEmail?: boolean;
  /**
   * The customers' activity log of recent SCIM requests and refused logins (docs/activity.md), or false.
   * Default: { maxRequests: 200, maxLogins: 100, flushIntervalMs: 1000, retentionMs: 30 days }.
   */
  activityLog?: false | { maxRequests?: number; maxLogins?: number; flushIntervalMs?: number; retentionMs?: number };
  /** Receives the audit trail. Default: none. */
  onEvent?: (event: AuditEvent) => void;
  /** Receives unexpected errors (answered 500 without details). Default: console.error. */
  onError?: (error: unknown) => void;
}

export type ResolvedOptions = z.output<typeof optionsSchema>;

/** Whether requests to IdPs may reach loopback and private addresses (allowHttpIssuers implies it). */
export const privateIdpAddressesAllowed = (options: Pick<ResolvedOptions, 'allowHttpIssuers' | 'allowPrivateIdpAddresses'>): boolean =>
  options.allowHttpIssuers || options.allowPrivateIdpAddresses;

// The interface and the schema describe the same options (a compile error here means they drifted).
type SchemaInput = z.input<typeof optionsSchema>;
const optionsMatchSchema: [ScimSsoOptions, SchemaInput] extends [SchemaInput, ScimSsoOptions] ? true : never = true;
void optionsMatchSchema;

const KNOWN_KEYS = Object.keys(optionsSchema.shape);

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function hintFor(key: string): string {
  const best = KNOWN_KEYS.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 3 ? ` Did you mean "${best.k}"?` : ` Known options: ${KNOWN_KEYS.join(', ')}.`;
}

/** Parses options once; misuse throws a ScimSsoConfigError with code 'invalid_options'. */
export function parseOptions(input: unknown): ResolvedOptions {
  const result = optionsSchema.safeParse(input ?? {});
  if (result.success) {
    if (result.data.defaultPageSize > result.data.maxPageSize) {
      throw new ScimSsoConfigError('invalid_options', 'scimSso: defaultPageSize must not exceed maxPageSize.');
    }
    return result.data;
  }
  const messages = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `unknown option "${key}".${hintFor(key)}`).join(' ');
    }
    const where = issue.path.length ? issue.path.join('.') : 'options';
    return `${where}: ${issue.message}`;
  });
  throw new ScimSsoConfigError('invalid_options', `scimSso: ${messages.join('; ')}`);
}
