/**
 * The guard's decision, as a pure function of what the store returned (docs/design-decisions.md §Guard outcomes).
 * The store-unreachable case never gets here: it fails closed before a decision is possible.
 */
import type { ScimCandidate } from './strategies.js';

export type RefusalReason = 'deactivated' | 'deleted' | 'not_provisioned' | 'ambiguous';

export type GuardDecision = { admit: true; scimUser: ScimCandidate | null } | { admit: false; reason: RefusalReason; scimUser: ScimCandidate | null };

export interface GuardFacts {
  /** Whether the customer has a SCIM connection at all. */
  hasConnection: boolean;
  /** The SCIM users that match the identity under the strategy. */
  matches: ScimCandidate[];
  /** Whether a SCIM user that once matched this lookup was deleted. */
  deletedMatch: boolean;
  /**
   * Whether the lookup's matches are different people, active or not (matchesDistinctPeople in
   * strategies.ts: the local part of a userName, where alice@corp and alice@subsidiary both match "alice"),
   * so that any two are ambiguous. Default false.
   */
  distinctPeople?: boolean;
  /**
   * Whether more SCIM users hold the looked-up value than the store lists for one value (LoginLookup.crowded,
   * src/store/crowded-values.ts): `matches` is then empty, and the login is `ambiguous`. Default false.
   */
  crowded?: boolean;
}

/**
 * Ambiguity counts active matches only. IdPs replace a user by deactivating it and POSTing a new one with
 * the same externalId (Okta on re-assignment and some renames): the deactivated record is history, the
 * active one is the person's account. Two or more *active* matches are ambiguous; no active match among
 * several inactive ones is `deactivated` (reporting the most recently created of them). Where the matches
 * are different people (`distinctPeople`), any two are ambiguous: a deactivated alice@corp logging in must
 * not be admitted as the active alice@subsidiary. A value more users hold than the store lists (a placeholder
 * address given to hundreds) names nobody: ambiguous.
 */
export function decide(facts: GuardFacts): GuardDecision {
  if (!facts.hasConnection) return { admit: true, scimUser: null };
  if (facts.crowded) return { admit: false, reason: 'ambiguous', scimUser: null };
  const active = facts.matches.filter((user) => user.active);
  if ((facts.distinctPeople ? facts.matches : active).length > 1) return { admit: false, reason: 'ambiguous', scimUser: null };
  if (active.length === 1) return { admit: true, scimUser: active[0]! };
  const latest = facts.matches.at(-1);
  if (latest) return { admit: false, reason: 'deactivated', scimUser: latest };
  return { admit: false, reason: facts.deletedMatch ? 'deleted' : 'not_provisioned', scimUser: null };
}
