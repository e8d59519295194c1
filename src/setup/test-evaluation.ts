/**
 * What Test SSO shows for validated claims: for each strategy, the SCIM users it matches and the guard's
 * decision (`compareStrategies`, the guard's own steps, nothing recorded), the outcome under the customer's
 * current strategy, and the hints to fix a mismatch (hints.ts).
 */
import { compareStrategies } from '../dashboard/compare-data.js';
import { yieldForResource } from '../event-loop.js';
import { claimsRefusal, loginCandidateOf, matchPolicyOf } from '../guard/guard.js';
import { identityOf, lacksSubjectClaim, type Claims } from '../guard/identity.js';
import { MATCHING_STRATEGIES, type MatchingStrategy, type ScimCandidate, type SsoIdentity } from '../match/strategies.js';
import type { Store, StoredOidcClient } from '../store/store.js';
import { testLoginHints } from './hints.js';
import type { SetupIdp } from './idp-steps.js';
import type { TestResult, TestRow } from './test-page.js';

export interface TestEvaluation {
  identity: SsoIdentity;
  /** The row of the current strategy. */
  current: TestRow;
  result: TestResult;
}

export async function evaluateTestLogin(
  store: Store,
  connectionId: string | null,
  client: StoredOidcClient,
  claims: Claims,
  strategy: MatchingStrategy,
  idp: SetupIdp,
  requireVerifiedEmail: boolean,
): Promise<TestEvaluation> {
  const identity = identityOf(claims, client.subjectClaim);
  // As the guard decides: without the configured subject claim the subject strategies have nothing to match
  // on (lacksSubjectClaim), whatever `sub` says.
  const matchable = lacksSubjectClaim('OidcSubToScimExternalId', claims, client.subjectClaim) ? { ...identity, subject: '' } : identity;
  const seen = new Map<string, ScimCandidate>();
  const comparisons = await compareStrategies(
    store,
    connectionId,
    matchable,
    matchPolicyOf(client, requireVerifiedEmail),
    async (users) => {
      const found: ScimCandidate[] = [];
      for (const user of users) {
        let candidate = seen.get(user.id);
        if (!candidate) {
          seen.set(user.id, (candidate = loginCandidateOf(user)));
          await yieldForResource(user); // a large user parsed in a turn of its own
        }
        found.push(candidate);
      }
      return found;
    },
    MATCHING_STRATEGIES,
    { groups: false, projections: true }, // shows no groups, and reads only what a login decides on
  );
  const rows: TestRow[] = comparisons.map((c) => ({
    strategy: c.strategy,
    lookup: c.lookup,
    matched: c.matchedIds.map((id) => seen.get(id)!).map(({ id, userName, externalId, active }) => ({ id, userName, externalId, active })),
    decision: c.decision,
  }));
  const outcomes = rows.map((r) => ({
    strategy: r.strategy,
    hasClaim: r.lookup !== null,
    admit: r.decision.admit,
    reason: r.decision.admit ? null : r.decision.reason,
    userName: r.decision.scimUser ? (seen.get(r.decision.scimUser.id)?.userName ?? null) : null,
  }));
  const hints = testLoginHints({ idp, current: strategy, subjectClaim: client.subjectClaim, outcomes });
  // The guard refuses such a login before any strategy runs (src/guard/guard.ts claimsRefusal).
  const refused = claimsRefusal(client, claims, identity, strategy);
  const refusedFirst = refused ? { code: refused.code, message: refused.message } : null;
  // Only a missing subject claim depends on the strategy (the subject strategies match on it).
  const under = refused?.code === 'missing_claim' && identity.subject ? `under ${strategy}` : 'whatever the strategy';
  if (refused) hints.unshift(`A login with these claims is refused (${refused.code}) ${under}: ${refused.message}.`);
  return { identity, current: rows.find((r) => r.strategy === strategy)!, result: { claims, current: strategy, rows, hints, refusedFirst } };
}
