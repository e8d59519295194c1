/**
 * Work and size budgets of the SCIM request layer, in one place (issue 10). Every limit is far above what
 * real identity providers send (docs/limits.md gives each one's reason), is checked before the work it
 * bounds is done, and is refused with an RFC 7644 §3.12 error. The aim: no single request blocks the
 * event loop for more than about 50 ms, and nothing a client sends grows without bound.
 *
 * Limits that deployments may need to tune are options of `scimSso(...)` (src/options.ts: page size,
 * body size, filter length and depth, PATCH operations); the ones below are fixed.
 */

/** Longest attribute name or URN accepted as a key or in a path segment. */
export const MAX_NAME_LENGTH = 256;

/** Longest attribute path (PATCH `path`, projection entry, `sortBy`); real clients send well under 200 characters. */
export const MAX_PATH_LENGTH = 1_024;

/** Most keys in one object of a resource: the resource itself, an extension, a complex value (incl. unknown attributes). */
export const MAX_OBJECT_KEYS = 100;

/**
 * Most keys in any object of a request body, refused as the body is parsed, before normalisation walks
 * them. Ten times MAX_OBJECT_KEYS: a resource stored before that limit existed may be sent back whole.
 */
export const MAX_BODY_OBJECT_KEYS = 1_000;

/**
 * Most array items in one request body, all arrays counted together, refused as the body is parsed. Every
 * per-member step of a group write is linear in them (validation, normalisation, the store's member
 * changes), and some of those steps must run without a yield: 65,000 one-character members fit in 1 MB and
 * held the event loop 200-500 ms. 25,000 is more than the members with scim-sso's ids that fit in the default
 * 1 MB body (about 20,800); larger groups are built by several PATCHes, as Entra and Okta send them.
 */
export const MAX_BODY_ARRAY_ITEMS = 25_000;

/**
 * Most bytes (UTF-8) of one stored resource's JSON, a group's members aside. A body is bounded by
 * `maxBodyBytes`, but PATCHes add to what is stored: without this bound, thirty `add`s of 0.9 MB grew a user
 * to 27 MB, whose every later write held the event loop for half a second and Redis for seconds, and whose
 * pages no list could return. A write past it that would grow the resource is refused; one that shrinks an
 * older, larger resource is taken. Real users and groups are a few KB.
 */
export const MAX_RESOURCE_BYTES = 1_000_000;

/** Most values of a multi-valued attribute (and of any array in an unknown attribute), `members` aside. */
export const MAX_VALUES = 1_000;

/** Most values of the multi-valued contact attributes of a user; `emails` values are indexed. */
export const MAX_CONTACT_VALUES = 100;
export const CONTACT_ATTRIBUTES: ReadonlySet<string> = new Set(['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'x509Certificates']);

/** Most members of one group (Entra and Okta push groups of 100,000+ members in several PATCHes). */
export const MAX_MEMBERS = 250_000;

/** Longest `userName`, `externalId`, `displayName` and member `value` (identifiers, UPNs, LDAP DNs). */
export const MAX_IDENTIFIER_LENGTH = 1_024;

/** Longest `emails[].value`: 64 (local part) + 1 + 255 (domain), the RFC 3696 bound; RFC 5321 paths stop at 254. */
export const MAX_EMAIL_LENGTH = 320;

/** Most attribute paths in `attributes` and in `excludedAttributes` (each); the full User schema has about 70. */
export const MAX_PROJECTION_PATHS = 100;

/** Most comparisons (`eq`, `pr`, …) in one filter, PATCH value filters included. */
export const MAX_FILTER_TERMS = 100;

/**
 * The most work a PATCH may do scanning multi-valued lists where the list index cannot help (see
 * patch-list.ts), in units: one per value compared (a value filter that does not pin `value` costs the
 * list's length times the filter's comparisons, other scans the list's length), plus the length of long or
 * non-ASCII strings compared (PATCH_SCAN_FOLDED_CHARS, PATCH_SCAN_CHARS below). Measured at about 0.6 µs
 * per unit (docs/limits.md), so this is about 12 ms. Over budget: 400 `tooMany`, refused before the scan.
 * Operations on `members[value eq "…"]`, adding values and removing listed values cost O(1) each.
 */
export const MAX_PATCH_SCAN = 20_000;

/**
 * Resources a filtered or sorted list evaluates between two yields to the event loop; a user's groups and a
 * group's members count one each.
 */
export const LIST_YIELD_EVERY = 500;

/**
 * Group memberships (users' derived groups, or the members of groups a filter on `members` reads) that one
 * scan may hold per resource it may read (`maxScanResources`): 500,000 in all at the default 50,000. More
 * is a 400 `tooMany`.
 */
export const SCAN_MEMBERSHIPS_PER_RESOURCE = 10;

/**
 * Members a group may have for a filter that reads member lists (any mention of `members` other than
 * `members[value eq "…"]`, which the reverse index answers: member-terms.ts), and for a PATCH that needs the
 * list in hand (one planGroupPatch cannot turn into member changes: resources.ts patchWholeGroup). One group
 * is rendered and evaluated at once, about 1 µs a member on this project's 2-core VM, so a larger group is
 * refused with a 400 `tooMany` (docs/limits.md).
 */
export const SCAN_GROUP_MEMBERS = 20_000;

/**
 * What a PATCH comparison costs beyond its one {@link MAX_PATCH_SCAN} unit when its strings are long: folding
 * a string that is not ASCII (src/fold.ts, caseExact=false) takes up to about 110 ns a character (strings
 * not in NFC: singletons, combining marks), so every {@link PATCH_SCAN_FOLDED_CHARS} characters cost one
 * more unit; ASCII strings and caseExact comparisons (lower-casing, native `===`/`includes`) take up to
 * about 8 ns a character (a search in a two-byte string), so every {@link PATCH_SCAN_CHARS} characters cost
 * one more. The stored string and the filter's text both count, for each comparison; building a list's
 * case-insensitive `value` index is charged the same way (patch-list.ts `textWork`).
 */
export const PATCH_SCAN_FOLDED_CHARS = 5;
export const PATCH_SCAN_CHARS = 64;

/**
 * Work budgets of a scan (list.ts, scan-work.ts), in units of about 0.25 µs at worst: one value compared
 * with one comparison of a filter costs 1, plus 1 per SCAN_COMPARE_CHARS characters a comparison reads
 * (`co` the value, `eq` values of equal length, `sw`/`ew` the operand), 1 per SCAN_FOLD_CHARS characters
 * folded (each stored string at most once per resource), 1 per SCAN_PARSE_CHARS characters of a resource
 * read. A request may spend SCAN_WORK_PER_RESOURCE units per resource it may read (`maxScanResources`),
 * 2,500,000 at the default 50,000 (under a second at worst); one resource's filter evaluation at most
 * SCAN_RESOURCE_WORK, because it runs without a yield: 150,000 units (100 comparisons over a user's 1,000
 * values) held the loop 75-95 ms on a busy 2-core VM, 50,000 hold it 3-12 ms on a quiet one and under 35 on
 * the busy one. More is a 400 `tooMany`, as soon as the work passes the budget.
 */
export const SCAN_WORK_PER_RESOURCE = 50;
export const SCAN_RESOURCE_WORK = 50_000;
/** Work a scan does between two yields to the event loop (a few ms), besides LIST_YIELD_EVERY resources. */
export const SCAN_SLICE_WORK = 20_000;
/** Characters per work unit: compared (a search over a two-byte string reads up to ~8 ns per character). */
export const SCAN_COMPARE_CHARS = 32;
/** Characters per work unit: folded (src/fold.ts). */
export const SCAN_FOLD_CHARS = 64;
/** Characters per work unit: a resource's JSON read (parsed) by a scan. */
export const SCAN_PARSE_CHARS = 128;

/**
 * What the group writes waiting for a group's write lease may hold (src/scim/lease-waiters.ts), in bytes as
 * waiterWeight estimates them, per SCIM connection and in the process: past either, the next is refused with
 * 503 and `Retry-After` instead of waiting up to LEASE_WAIT_MS. A waiter weighs its body's bytes plus
 * LEASE_WAITER_BYTES_PER_VALUE per member value it carries (measured 135-196: a PATCH of 20,000 values,
 * 689 KB, holds 3.9 MB parsed and planned), at least LEASE_WAITER_MIN_BYTES (which also bounds the light
 * waiters polling the store). A connection's waiters then hold about 32 MB (8 such PATCHes, or 250 light
 * writes), the process's about 128 MB; an IdP sends one group's writes one or a few at a time.
 */
export const LEASE_WAIT_BYTES_PER_CONNECTION = 32_000_000;
export const LEASE_WAIT_BYTES = 128_000_000;
export const LEASE_WAITER_BYTES_PER_VALUE = 160;
export const LEASE_WAITER_MIN_BYTES = 128_000;
