/**
 * The guard's decision, as a pure function of what the store returned (DESIGN.md "Guard outcomes").
 * The store-unreachable case never gets here: it fails closed before a decision is possible.
 */
import type { ScimCandidate } from '../match/strategies.js';

export type RefusalReason = 'deactivated' | 'deleted' | 'not_provisioned' | 'ambiguous';

export type GuardDecision =
  | { admit: true; scimUser: ScimCandidate | null }
  | { admit: false; reason: RefusalReason; scimUser: ScimCandidate | null };

export interface GuardFacts {
  /** Whether the customer has a SCIM connection at all. */
  hasConnection: boolean;
  /** The SCIM users that match the identity under the strategy. */
  matches: ScimCandidate[];
  /** Whether a SCIM user that once matched this lookup was deleted. */
  deletedMatch: boolean;
}

export function decide(facts: GuardFacts): GuardDecision {
  if (!facts.hasConnection) return { admit: true, scimUser: null };
  if (facts.matches.length > 1) return { admit: false, reason: 'ambiguous', scimUser: null };
  const [user] = facts.matches;
  if (user) return user.active ? { admit: true, scimUser: user } : { admit: false, reason: 'deactivated', scimUser: user };
  return { admit: false, reason: facts.deletedMatch ? 'deleted' : 'not_provisioned', scimUser: null };
}
