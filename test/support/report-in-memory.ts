/**
 * The matching report over users already in memory: the page-at-a-time steps of report.ts in one go, with
 * the store's index lookups played by maps, for the tests; the app's report reads the
 * store a page at a time (src/matching-report.ts).
 */
import type { StoredSsoUser } from '../../src/store/store.js';
import {
  finishReport,
  lookupKey,
  planSsoUsers,
  startReport,
  tallyScimUsers,
  tallySsoUsers,
  type MatchingReport,
  type NumberedCandidate,
  type ReportContext,
  type ReportTally,
} from '../../src/match/report.js';
import { indexValueOf, type ScimCandidate } from '../../src/match/strategies.js';

export interface ReportInput extends ReportContext {
  ssoUsers: StoredSsoUser[];
  /** In creation order. */
  scimUsers: ScimCandidate[];
  /** Index lookups (see lookupKey) that a deleted SCIM user once answered (the store's tombstones). */
  deletedLookups?: ReadonlySet<string>;
}

export function buildMatchingReport(input: ReportInput): MatchingReport {
  const { tally, users } = ssoUsersTallied(input);
  const bySeq = new Map(users.map((u) => [u.seq, u]));
  tallyScimUsers(
    tally,
    users.map((u) => u.seq),
    (seq) => bySeq.get(seq) ?? null,
  );
  return finishReport(tally);
}

/** The ids of the SCIM users that at least one strategy matched to no SSO user. */
export function unmatchedBySomeStrategy(input: ReportInput): Set<string> {
  const { tally, users } = ssoUsersTallied(input);
  return new Set(users.filter((u) => tally.strategies.some((s) => !s.matched.has(u.seq))).map((u) => u.id));
}

/** The report's first pass over every SSO user, the store's index lookups played by maps. */
function ssoUsersTallied(input: ReportInput): { tally: ReportTally; users: NumberedCandidate[] } {
  const users: NumberedCandidate[] = input.scimUsers.map((u, i) => ({ ...u, seq: i + 1 }));
  const indexes = new Map<string, NumberedCandidate[]>();
  for (const user of users) {
    for (const index of ['userName', 'externalId', 'userNameLocal'] as const) {
      const value = indexValueOf(index, user);
      if (value === null || value === '') continue;
      const key = lookupKey(index, value);
      const list = indexes.get(key);
      if (list) list.push(user);
      else indexes.set(key, [user]);
    }
  }
  const { customerId, currentStrategy, idpType, subjectClaim, policy } = input;
  const tally = startReport({ customerId, currentStrategy, idpType, subjectClaim, policy });
  const plan = planSsoUsers(tally, input.ssoUsers);
  const answers = plan.distinct.map(({ index, value }) => {
    const key = lookupKey(index, value);
    const found = indexes.get(key) ?? [];
    // As the store answers: the tombstone only matters, and is only looked up, when nobody is found.
    return { users: found, deletedMatch: found.length === 0 && (input.deletedLookups?.has(key) ?? false) };
  });
  tallySsoUsers(tally, plan, answers);
  return { tally, users };
}
