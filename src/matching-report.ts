/**
 * Reads what the matching report needs from the store a page at a time and builds it (src/match/report.ts):
 * the SSO users in scan batches of REPORT_PAGE, each batch's lookups under the five strategies in one
 * batched store read (findUsersForLoginBatch: the guard's own lookup, tombstones included), then the SCIM
 * users in creation order, REPORT_PAGE at a time, to count those nobody matched. What it holds at any time:
 * one page and its answers, the examples, and a bit per SCIM user per strategy (docs/matching-report.md).
 */
import { candidateOf, matchPolicyOf } from './guard/guard.js';
import type { NumberedUser, Store } from './store/store.js';
import {
  finishReport,
  lookupKey,
  lookupsOf,
  startReport,
  tallyScimUsers,
  tallySsoUsers,
  type LookupAnswer,
  type MatchingReport,
  type NumberedCandidate,
} from './match/report.js';
import { isMatchingStrategy, type StoreLookup } from './match/strategies.js';

/** SSO users per scan batch, and SCIM users per page. */
export const REPORT_PAGE = 500;

/** The parts of a stored user that matching reads (its JSON parsed once, then dropped). */
function numbered(user: NumberedUser): NumberedCandidate {
  const { id, userName, externalId, active } = candidateOf(user);
  return { id, userName, externalId, active, seq: user.seq };
}

/** The store's answers to `lookups` (ONE round trip), by lookupKey; each SCIM user parsed once. */
async function answers(store: Store, connectionId: string, lookups: StoreLookup[]): Promise<Map<string, LookupAnswer>> {
  const found = await store.findUsersForLoginBatch(
    connectionId,
    lookups.map((l) => ({ attribute: l.index, value: l.value })),
  );
  const parsed = new Map<NumberedUser, NumberedCandidate>(); // the batch answers a user found twice as one object
  const candidate = (user: NumberedUser) => {
    const c = parsed.get(user) ?? numbered(user);
    parsed.set(user, c);
    return c;
  };
  return new Map(lookups.map((l, i) => [lookupKey(l.index, l.value), { users: found[i]!.users.map(candidate), deletedMatch: found[i]!.deletedMatch }]));
}

/** `requireVerifiedEmail` is the instance default, for clients that leave it null. */
export async function matchingReport(store: Store, customerId: string, requireVerifiedEmail = false): Promise<MatchingReport> {
  const { client, connection } = await store.getCustomer(customerId);
  const tally = startReport({
    customerId,
    currentStrategy: client && isMatchingStrategy(client.matchingStrategy) ? client.matchingStrategy : null,
    idpType: client?.idpType ?? null,
    subjectClaim: client?.subjectClaim ?? null,
    policy: matchPolicyOf(client, requireVerifiedEmail),
  });
  let cursor = '0';
  do {
    const batch = await store.scanSsoUsers(customerId, cursor, REPORT_PAGE);
    cursor = batch.cursor;
    const found = connection ? await answers(store, connection.connectionId, lookupsOf(tally, batch.users)) : new Map<string, LookupAnswer>();
    tallySsoUsers(tally, batch.users, (l) => found.get(lookupKey(l.index, l.value)) ?? { users: [], deletedMatch: false });
  } while (cursor !== '0');
  // Second pass, once every match is known: the SCIM users none of them included.
  for (let after = 0; connection;) {
    const users = await store.scanUsers(connection.connectionId, after, REPORT_PAGE);
    tallyScimUsers(tally, users.map(numbered));
    if (users.length < REPORT_PAGE) break;
    after = users[users.length - 1]!.seq;
  }
  return finishReport(tally);
}
