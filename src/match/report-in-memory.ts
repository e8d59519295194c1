/**
 * The matching report over users already in memory: the page-at-a-time steps of report.ts in one go, with
 * the store's index lookups played by maps. For tests and small data sets; the app's report reads the
 * store a page at a time (src/matching-report.ts).
 */
import { fold, localPart } from '../fold.js';
import type { StoredSsoUser } from '../store/store.js';
import {
  finishReport,
  lookupKey,
  startReport,
  tallyScimUsers,
  tallySsoUsers,
  type MatchingReport,
  type NumberedCandidate,
  type ReportContext,
} from './report.js';
import type { MatchIndex, ScimCandidate } from './strategies.js';

export interface ReportInput extends ReportContext {
  ssoUsers: StoredSsoUser[];
  /** In creation order. */
  scimUsers: ScimCandidate[];
  /** Index lookups (see lookupKey) that a deleted SCIM user once answered (the store's tombstones). */
  deletedLookups?: ReadonlySet<string>;
}

/** The value each index holds for a user (the keys the SCIM layer gives the store: src/scim/users.ts). */
function indexValue(index: MatchIndex, user: ScimCandidate): string | null {
  const value = index === 'userName' ? fold(user.userName) : index === 'externalId' ? user.externalId : fold(localPart(user.userName));
  return value === '' ? null : value;
}

export function buildMatchingReport(input: ReportInput): MatchingReport {
  const users: NumberedCandidate[] = input.scimUsers.map((u, i) => ({ ...u, seq: i + 1 }));
  const indexes = new Map<string, NumberedCandidate[]>();
  for (const user of users) {
    for (const index of ['userName', 'externalId', 'userNameLocal'] as const) {
      const value = indexValue(index, user);
      if (value === null) continue;
      const key = lookupKey(index, value);
      const list = indexes.get(key);
      if (list) list.push(user);
      else indexes.set(key, [user]);
    }
  }
  const { customerId, currentStrategy, idpType, subjectClaim, policy } = input;
  const tally = startReport({ customerId, currentStrategy, idpType, subjectClaim, policy });
  tallySsoUsers(tally, input.ssoUsers, ({ index, value }) => {
    const key = lookupKey(index, value);
    return { users: indexes.get(key) ?? [], deletedMatch: input.deletedLookups?.has(key) ?? false };
  });
  tallyScimUsers(tally, users);
  return finishReport(tally);
}
