/**
 * Reads what the matching report needs from the store a page at a time and builds it (src/match/report.ts):
 * the SSO users in scan batches of REPORT_PAGE, each batch's lookups under the protocol's strategies in one
 * batched store read (findUsersForLoginBatch: the guard's own lookup, tombstones included), then the SCIM
 * users' positions in creation order, MAX_CURSOR_PAGE at a time, with the userNames of those nobody matched, to
 * count them, reading in full only the users that count needs (pickUsersAfter). What it holds at any time:
 * three pages of SSO users and two pages' answers, the examples, and a bit per SCIM user per strategy
 * (docs/matching-report.md).
 */
import { yieldForResource, yieldToEventLoop } from './event-loop.js';
import { matchPolicyOf, onceReadCandidateOf, sessionGroupsOf } from './guard/guard.js';
import { roleMappingOf } from './roles/role-mapping.js';
import { type NumberedResource, type SsoUserScan, type Store, type StoredSsoUser } from './store/store.js';
import { MAX_CURSOR_PAGE } from './store/store-checks.js';
import {
  finishReport,
  planSsoUsers,
  scimUserWanted,
  startReport,
  tallyScimUsers,
  tallySsoUsers,
  type LookupAnswer,
  type MatchingReport,
  type NumberedCandidate,
} from './match/report.js';
import { isSsoMatchingStrategy, type StoreLookup } from './match/strategies.js';

/** SSO users per scan batch. */
export const REPORT_PAGE = 250;

/** SSO users tallied between two yields. */
const TALLY_SLICE = 125;

/** What a customer without a SCIM connection finds: nobody (the report then says "affected" for everyone). */
const NO_ANSWER: LookupAnswer = { users: [], deletedMatch: false };

/** The parts of a stored user that matching reads (its login facts). Completes the new candidate in place: a copy per user showed in profiles. */
function numbered(user: NumberedResource): NumberedCandidate {
  const candidate = onceReadCandidateOf(user) as NumberedCandidate;
  candidate.seq = user.seq;
  candidate.groups = sessionGroupsOf(user);
  return candidate;
}

/**
 * The store's answers to `lookups`, in order (ONE round trip); each SCIM user parsed once. Users' groups are
 * read only when the customer maps groups to roles (`withGroups`): the report shows no groups, only the roles
 * of admitted examples, and a value held by 100 users in 1,000 groups each made every lookup of it read
 * 100,000 memberships (a hostile-tenant probe, 2026-12-07: 1.6 s for one SSO user, 5.3 s for 1,000).
 */
async function answers(store: Store, connectionId: string, lookups: StoreLookup[], withGroups: boolean): Promise<LookupAnswer[]> {
  const found = await store.findUsersForLoginBatch(
    connectionId,
    lookups.map((l) => ({ attribute: l.index, value: l.value })),
    { groups: withGroups, projections: true },
  );
  const parsed = new Map<NumberedResource, NumberedCandidate>(); // the batch answers a user found twice as one object
  const out: LookupAnswer[] = [];
  for (const { users, deletedMatch, crowded } of found) {
    const candidates: NumberedCandidate[] = [];
    for (const user of users) {
      let c = parsed.get(user);
      if (!c) {
        parsed.set(user, (c = numbered(user)));
        // A large user parsed in a turn of its own (a batch's holders may be 100 users of 0.8 MB).
        await yieldForResource(user);
      }
      candidates.push(c);
    }
    out.push(crowded ? { users: candidates, deletedMatch, crowded } : { users: candidates, deletedMatch });
  }
  return out;
}

/** `requireVerifiedEmail` is the instance default, for clients that leave it null. */
export async function matchingReport(store: Store, customerId: string, requireVerifiedEmail = false): Promise<MatchingReport> {
  const { client, saml, connection, roleMapping } = await store.getCustomer(customerId);
  const mapping = roleMappingOf(roleMapping);
  const sso = client ?? saml;
  const tally = startReport({
    customerId,
    currentStrategy: sso && isSsoMatchingStrategy(sso.matchingStrategy) ? sso.matchingStrategy : null,
    idpType: sso?.idpType ?? null,
    subjectClaim: client?.subjectClaim ?? null,
    protocol: saml ? 'saml' : 'oidc',
    // SAML has no email_verified: a signed assertion vouches for its attributes (docs/saml.md §Matching).
    policy: saml ? {} : matchPolicyOf(client, requireVerifiedEmail),
    roleMapping: mapping,
  });
  // Three batches are under way at once: one tallied here, one whose lookups the store answers meanwhile, and
  // the scan of the next, asked for before those lookups so that it is not queued behind them (on Redis a
  // wave of lookups holds the connection for milliseconds). Reads are marked handled at once: errors surface
  // when awaited.
  const ahead = <T>(read: Promise<T>): Promise<T> => (read.catch(() => {}), read);
  const lookUp = (users: StoredSsoUser[]) => {
    const plan = planSsoUsers(tally, users);
    const found = connection ? answers(store, connection.connectionId, plan.distinct, mapping !== null) : Promise.resolve(plan.distinct.map(() => NO_ANSWER));
    return ahead(found.then((f) => ({ plan, found: f })));
  };
  const scanFrom = (cursor: string) => ahead(store.scanSsoUsers(customerId, cursor, REPORT_PAGE));
  let scan: Promise<SsoUserScan> | null = scanFrom('0');
  let looking: ReturnType<typeof lookUp> | null = null;
  while (scan || looking) {
    const batch: SsoUserScan | null = scan ? await scan : null;
    scan = batch && batch.cursor !== '0' ? scanFrom(batch.cursor) : null;
    const next = batch ? lookUp(batch.users) : null;
    if (looking) {
      const { plan, found } = await looking;
      // The replies may have arrived together: planning one batch and tallying the other each take their turn,
      // and the tally itself goes TALLY_SLICE users a turn (a page of 250 took up to 37 ms, audit 24).
      for (let from = 0; from < plan.users.length; from += TALLY_SLICE) {
        await yieldToEventLoop();
        tallySsoUsers(tally, plan, found, from, from + TALLY_SLICE);
      }
    }
    looking = next;
  }
  // Second pass, once every match is known: the SCIM users none of them included.
  if (connection) {
    // Only the users the tally will read are read in full: in a customer whose SCIM users have mostly
    // signed in, a few in a hundred; the rest are positions, MAX_CURSOR_PAGE a round trip.
    const wanted = (seq: number) => scimUserWanted(tally, seq, true);
    // Without their groups: the second pass counts and names users, and shows no roles. With the folded
    // userNames of the users nobody matched, from the index entries: those are counted without a domain from
    // them, not read whole (at 1,000,000 SCIM users of whom 50,000 signed in, reading them took 18 s). The
    // matched ones were counted when matched: their names are not read (on Redis, reading each row for its
    // name was a fifth of a 100,000 + 100,000 report's Redis time).
    const readPage = (after: number) =>
      ahead(store.pickUsersAfter(connection.connectionId, after, MAX_CURSOR_PAGE, wanted, { groups: false, userNames: (seq) => !tally.seen.has(seq) }));
    for (let page = readPage(0); ;) {
      const { seqs, users, next, userNames } = await page;
      if (next !== null) page = readPage(next);
      const bySeq = new Map(users.map((user) => [user.seq, user]));
      const candidate = (seq: number) => {
        const user = bySeq.get(seq);
        return user ? numbered(user) : null;
      };
      tallyScimUsers(tally, seqs, candidate, userNames);
      if (next === null) break;
      await yieldToEventLoop();
    }
  }
  return finishReport(tally);
}
