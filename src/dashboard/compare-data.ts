/**
 * The Compare page's data: one SSO user, and for each strategy the SCIM users the guard would look at and
 * what it would decide. It runs the guard's own steps — `lookupFor`, the store's login lookup (every strategy's
 * in one batched read), `findMatches`, `decide` — so the page can never disagree with a real login. It reads
 * the one SSO user and the SCIM users its lookups find: nothing grows with the customer. It shows the first
 * CANDIDATES_SHOWN of those users, each with the first of its groups (LIST_CHARS, name-list.ts).
 */
import { yieldForResource } from '../event-loop.js';
import type { ScimConnection } from '../connections.js';
import { fold } from '../fold.js';
import { decide, type GuardDecision } from '../match/decide.js';
import { shownCandidateOf, loginCandidateOf, matchPolicyOf, type ScimUserView } from '../guard/guard.js';
import {
  matchesDistinctPeople,
  findMatches,
  identityOfSsoUser,
  isSsoMatchingStrategy,
  lookupFor,
  strategiesFor,
  type MatchPolicy,
  type ScimCandidate,
  type SsoIdentity,
  type SsoMatchingStrategy,
  type StoreLookup,
} from '../match/strategies.js';
import type { OidcClient } from '../oidc-clients.js';
import type { SamlConnection } from '../saml-connections.js';
import type { LoginBatchOptions, Store, StoredResource, StoredSsoUser } from '../store/store.js';
import { CrowdedValueError } from '../store/crowded-values.js';
import type { DashboardApi } from './api.js';
import { firstNames, type NamesShown } from './name-list.js';

/**
 * A SCIM user the page shows, with the first of its groups' names (LIST_CHARS, name-list.ts) and how many
 * more; null when the store did not read its groups (LoginLookup), which is not "in no group".
 */
export type Candidate = ScimUserView &
  ScimCandidate & {
    groups: NamesShown | null;
    /** Deleted between the lookup that found it and the read of what the page shows of it. */
    goneSinceFound?: boolean;
  };

export interface StrategyComparison {
  strategy: SsoMatchingStrategy;
  lookup: StoreLookup | null;
  /** Ids of the candidates this strategy matches. */
  matchedIds: string[];
  decision: GuardDecision;
}

export interface CompareData {
  customerId: string;
  client: OidcClient | null;
  /** The customer's SAML connection, when it signs in by SAML (then the SAML strategies are compared). */
  saml: SamlConnection | null;
  connection: ScimConnection | null;
  ssoUser: StoredSsoUser;
  identity: SsoIdentity;
  /** The matching policy the guard applies to this customer (requireVerifiedEmail). */
  policy: MatchPolicy;
  /**
   * The SCIM users shown side by side: of every SCIM user some strategy looks at, plus those whose emails
   * hold the SSO user's email, the first CANDIDATES_SHOWN, taking each lookup's first ones in turn.
   */
  candidates: Candidate[];
  /** How many more SCIM users the lookups found (the strategies' outcomes count them all). */
  moreCandidates: number;
  strategies: StrategyComparison[];
}

/**
 * SCIM users the Compare page shows side by side. A lookup finds up to 100 (quota.maxResourcesPerValue) and
 * the page asks up to six (five OIDC strategies and the email): 300 candidates at their limits made a 3.7 MB page,
 * 20 MB when their values were all quotes (`&quot;`), 60-400 ms to build.
 */
export const CANDIDATES_SHOWN = 20;

/**
 * The first `count` candidates, taking each lookup's next one in turn (so each strategy's first matches are
 * there however many another lookup found), in the order they were first found.
 */
function shownCandidates(all: Map<string, Candidate>, lookups: Candidate[][], count: number): Candidate[] {
  const shown = new Set<string>();
  const longest = Math.max(0, ...lookups.map((found) => found.length));
  for (let i = 0; i < longest && shown.size < count; i++) {
    for (const found of lookups) if (i < found.length && shown.size < count) shown.add(found[i]!.id);
  }
  return [...all.values()].filter((c) => shown.has(c.id));
}

/**
 * Reads the groups of the candidates shown (one user read each, together), as far as LIST_CHARS goes for each,
 * and the resource of those the lookups gave as their login projection (`unread`: large users).
 */
async function withGroupsShown(store: Store, connectionId: string, shown: Candidate[], unread: ReadonlySet<string>): Promise<void> {
  const read = await Promise.all(shown.map((candidate) => store.getResource(connectionId, 'User', candidate.id)));
  for (const [i, user] of read.entries()) {
    const candidate = shown[i]!;
    candidate.groups = user?.groups ? firstNames(user.groups, (g) => g.display) : null;
    if (!user) candidate.goneSinceFound = true;
    if (user && unread.has(candidate.id)) {
      candidate.resource = shownCandidateOf(user).resource;
      await yieldForResource(user); // a large user parsed in a turn of its own
    }
  }
}

/** Null when the customer has no SSO user with this subject. */
export async function loadCompare(api: DashboardApi, customerId: string, subject: string): Promise<CompareData | null> {
  const [client, saml, connection, ssoUser] = await Promise.all([
    api.fetchOidcClient(customerId),
    api.fetchSamlConnection(customerId),
    api.fetchScimConnection(customerId),
    api.store.getSsoUser(customerId, subject),
  ]);
  if (!ssoUser) return null;
  const identity = identityOfSsoUser(ssoUser);
  // SAML has no email_verified: the guard applies no email policy to SAML logins (src/guard/saml.ts).
  const policy = saml ? {} : matchPolicyOf(client, api.options.requireVerifiedEmail);
  const candidates = new Map<string, Candidate>();
  const lookups: Candidate[][] = [];
  const unread = new Set<string>(); // candidates found as their login projection: their resource is read if shown
  const add = async (users: StoredResource[], projected?: ReadonlySet<string>) => {
    const found: Candidate[] = [];
    for (const stored of users) {
      let candidate = candidates.get(stored.id);
      if (!candidate && projected?.has(stored.id)) {
        candidate = { ...loginCandidateOf(stored), resource: {}, groups: null };
        candidates.set(stored.id, candidate);
        unread.add(stored.id);
      } else if (!candidate) {
        candidate = { ...shownCandidateOf(stored), groups: stored.groups ? firstNames(stored.groups, (g) => g.display) : null };
        candidates.set(stored.id, candidate);
        await yieldForResource(stored); // a large user parsed in a turn of its own
      }
      found.push(candidate);
    }
    lookups.push(found);
    return found;
  };

  // The lookups read no groups (a value may have 100 holders in 1,000 groups each), and large users as their
  // login projection (100 of 0.8 MB took 1.5 s to parse): the groups of the candidates shown, and the
  // resources of those shown that came projected, are read below, one user each.
  const strategies = await compareStrategies(api.store, connection?.connectionId ?? null, identity, policy, add, strategiesFor(saml ? 'saml' : 'oidc'), {
    groups: false,
    projections: true,
  });
  // The person is often findable by email among SCIM emails even when no strategy matches: show them too.
  // A crowded address (src/store/crowded-values.ts) names nobody: its holders are not shown.
  if (connection && ssoUser.email) await add(await holdersOf(api.store, connection.connectionId, fold(ssoUser.email)));

  const shown = shownCandidates(candidates, lookups, CANDIDATES_SHOWN);
  if (connection) await withGroupsShown(api.store, connection.connectionId, shown, unread);
  return { customerId, client, saml, connection, ssoUser, identity, policy, candidates: shown, moreCandidates: candidates.size - shown.length, strategies };
}

/** The SCIM users holding an email address, none when it is crowded. */
async function holdersOf(store: Store, connectionId: string, email: string): Promise<StoredResource[]> {
  try {
    return await store.findByIndex(connectionId, 'User', 'email', email, { groups: false });
  } catch (error) {
    if (error instanceof CrowdedValueError) return [];
    throw error;
  }
}

/**
 * For each strategy: its lookup, the SCIM users it matches and the guard's decision, from ONE batched store
 * read (the guard's own steps; nothing is recorded). `add` receives every SCIM user found (and the ids of
 * those found as their login projection) and returns them
 * as the caller keeps them (with their groups unless `read.groups` is false: Test SSO shows none, and a value
 * many users in many groups hold would make each test read all their memberships; as their login projection
 * when `read.projections` is true, for a caller that keeps only their login facts). Shared by the Compare
 * page and the setup portal's Test SSO.
 */
export async function compareStrategies<C extends ScimCandidate, S extends SsoMatchingStrategy>(
  store: Store,
  connectionId: string | null,
  identity: SsoIdentity,
  policy: MatchPolicy,
  add: (users: StoredResource[], projected?: ReadonlySet<string>) => C[] | Promise<C[]>,
  strategies: readonly S[],
  read: LoginBatchOptions = {},
): Promise<(StrategyComparison & { strategy: S })[]> {
  const planned = strategies.map((strategy) => ({ strategy, lookup: lookupFor(strategy, identity, policy) }));
  const asked = connectionId ? planned.filter((p): p is { strategy: S; lookup: StoreLookup } => p.lookup !== null) : [];
  const found =
    connectionId && asked.length
      ? await store.findUsersForLoginBatch(
          connectionId,
          asked.map(({ lookup }) => ({ attribute: lookup.index, value: lookup.value })),
          read,
        )
      : [];
  const answerOf = new Map(asked.map(({ strategy }, i) => [strategy, found[i]!]));
  const comparisons: (StrategyComparison & { strategy: S })[] = [];
  for (const { strategy, lookup } of planned) {
    const answer = answerOf.get(strategy);
    const matched: ScimCandidate[] = answer ? findMatches(strategy, identity, await add(answer.users, answer.projected), policy) : [];
    const decision = decide({
      hasConnection: connectionId !== null,
      matches: matched,
      deletedMatch: answer?.deletedMatch ?? false,
      distinctPeople: lookup !== null && matchesDistinctPeople(lookup.index),
      crowded: answer?.crowded === true,
    });
    comparisons.push({ strategy, lookup, matchedIds: matched.map((m) => m.id), decision });
  }
  return comparisons;
}

export const currentStrategyOf = (data: CompareData): SsoMatchingStrategy | null => {
  const current = (data.client ?? data.saml)?.matchingStrategy;
  return isSsoMatchingStrategy(current) ? current : null;
};
