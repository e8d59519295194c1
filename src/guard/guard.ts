/**
 * The guard itself, framework-neutral: given a customer's configuration and validated claims, look the
 * person up and record the attempt (one store call, Store.recordLogin; a second only when the recorded outcome
 * differs from the decision), and decide. The OIDC verify step (src/guard/passport.ts) and the SAML ACS
 * (src/guard/saml.ts) call it.
 */
import { ScimUserNotActive, SsoLoginError } from '../errors.js';
import { yieldForResource } from '../event-loop.js';
import {
  matchesDistinctPeople,
  findMatches,
  lookupFor,
  strategiesFor,
  type MatchPolicy,
  type ScimCandidate,
  type SsoMatchingStrategy,
  type SsoProtocol,
  type SsoIdentity,
} from '../match/strategies.js';
import { type LoginLookup, type Store, type StoredConnection, type StoredOidcClient, type StoredResource } from '../store/store.js';
import { sessionGroupsFitting } from '../store/read-budgets.js';
import { loginFactsKnown, loginFactsOf, loginFactsOfParsed, type LoginFacts } from '../store/login-outcome.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { isSsoSubject } from '../store/sso-records.js';
import { decide, type GuardDecision } from '../match/decide.js';
import { rolesFor, type RoleMapping, type SessionGroup } from '../roles/role-mapping.js';
import { identityOf, lacksSubjectClaim, ssoUserRecord, type Claims } from './identity.js';
import { requiredClaimsProblem } from './tenant-claims.js';
import type { GuardResult, ScimUserView } from './contract.js';

export type { DefaultSessionUser, GuardResult, ScimUserView, SessionUser } from './contract.js';

/**
 * What the decision reads of each holder of a login's value: its login facts (loginFactsOf, which the store's
 * activity test shares), not its resource. The holders may be 100 users of up to 1 MB each: a large one is
 * parsed in a turn of its own (100 of 0.8 MB held the loop 1.5-4 s in one turn, an audit of 2026-12-07), and
 * only the admitted one's resource is parsed again, after the decision (scimUserView).
 */
export async function candidatesOf(users: readonly StoredResource[]): Promise<ScimCandidate[]> {
  const out: ScimCandidate[] = [];
  for (const user of users) {
    const parsing = !loginFactsKnown(user); // the store's activity test may have read them already
    out.push(loginCandidateOf(user));
    if (parsing) await yieldForResource(user);
  }
  return out;
}

/** The admitted holder as the app gets it: its facts and its whole resource. */
const scimUserView = (candidate: ScimCandidate, stored: StoredResource): ScimUserView => ({
  ...candidate,
  resource: JSON.parse(stored.json) as Record<string, unknown>,
});

/** A user as matching reads it, from its login facts: active unless `active` is false (isActiveUser's rule). */
const candidateFrom = (id: string, facts: LoginFacts): ScimCandidate => ({
  id,
  userName: facts.userName ?? '',
  externalId: facts.externalId,
  active: !facts.falseMembers.has('active'),
});

/** A stored SCIM user as matching reads it (its JSON parsed once per object: loginFactsOf). */
export const loginCandidateOf = (stored: StoredResource): ScimCandidate => candidateFrom(stored.id, loginFactsOf(stored));

/**
 * The same, its JSON parsed without keeping the facts, for a reader that meets each object once (the
 * matching report parses 100,000 users a run: keeping their facts in loginFactsOf's WeakMap only cost time).
 */
export const onceReadCandidateOf = (stored: StoredResource): ScimCandidate => candidateFrom(stored.id, loginFactsOfParsed(JSON.parse(stored.json)));

/** A stored SCIM user as matching reads it, and its whole resource (pages that show it). Throws unless its JSON is an object. */
export function shownCandidateOf(stored: StoredResource): ScimUserView & ScimCandidate {
  const resource = JSON.parse(stored.json) as unknown;
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) throw new TypeError('a stored user is not a JSON object');
  return { ...candidateFrom(stored.id, loginFactsOfParsed(resource)), resource: resource as Record<string, unknown> };
}

/**
 * What the guard reads of a customer's SSO connection (an OIDC client, or the SAML form of
 * src/guard/saml.ts, which says `protocol: 'saml'`).
 */
export type GuardSettings = Pick<StoredOidcClient, 'customerId' | 'matchingStrategy' | 'subjectClaim' | 'requireVerifiedEmail' | 'requiredClaims'> & {
  protocol?: SsoProtocol;
};

/** The customer as the guard sees it: its SSO connection's settings, SCIM connection and role mapping. */
export interface GuardConfig {
  client: GuardSettings;
  connection: StoredConnection | null;
  roleMapping?: RoleMapping | null;
}

export interface CustomerConfig extends GuardConfig {
  client: StoredOidcClient;
  connection: StoredConnection | null;
  /** The customer's role mapping (null: nobody gets roles from groups). */
  roleMapping?: RoleMapping | null;
}

/** The groups of a stored user, as roles are computed from them (all of them). */
export function sessionGroupsOf(stored: Pick<StoredResource, 'groups'>): SessionGroup[] {
  return (stored.groups ?? []).map((g) => ({ id: g.value, displayName: g.display }));
}

/**
 * About the most bytes of groups a session user carries (ids, names and their JSON punctuation:
 * sessionGroupBytes, src/store/read-budgets.ts): some 250 groups of ordinary names. A person may be in 1,000 groups
 * of 1,024-character names, which made every session of theirs about 1 MB in the app's session store, each
 * login a new one (an audit of 2026-12-06: 23 MB a second into a shared Redis from one customer's IdP and
 * SCIM client). The session check reads no more names than these on each request (Store.readSessionUser).
 */
export const SESSION_GROUPS_BYTES = 16_384;

/**
 * `groups` as the session user carries them: in order, as far as {@link SESSION_GROUPS_BYTES} go, with
 * `truncated` when some were left out (roles are computed from all of them before this).
 */
export function sessionGroupsKept(groups: SessionGroup[]): { groups: SessionGroup[]; truncated: boolean } {
  const kept = sessionGroupsFitting(groups, (g) => [g.id, g.displayName], SESSION_GROUPS_BYTES);
  return kept === groups.length ? { groups, truncated: false } : { groups: groups.slice(0, kept), truncated: true };
}

/**
 * The matching policy of a client: its own `requireVerifiedEmail` when set, else the instance default
 * (`scimSso({ requireVerifiedEmail })`). Pure.
 */
export function matchPolicyOf(client: { requireVerifiedEmail?: boolean | null } | null, instanceDefault = false): MatchPolicy {
  return { requireVerifiedEmail: client?.requireVerifiedEmail ?? instanceDefault };
}

/**
 * The client's stored matching strategy. One this version does not know (written by a newer version sharing
 * the store, or by hand) refuses the login with `unsupported_strategy` (503): no silent fallback to another
 * strategy, which could admit a different SCIM user.
 */
export function strategyOf(client: Pick<GuardSettings, 'customerId' | 'matchingStrategy' | 'protocol'>): SsoMatchingStrategy {
  // A strategy of the other protocol is as unknown as a misspelt one: it would read claims this login lacks.
  const known = strategiesFor(client.protocol ?? 'oidc') as readonly string[];
  if (known.includes(client.matchingStrategy)) return client.matchingStrategy as SsoMatchingStrategy;
  throw new SsoLoginError(
    'unsupported_strategy',
    503,
    `the SSO connection of customer "${client.customerId}" has the matching strategy "${String(client.matchingStrategy).slice(0, 100)}", which this version of scim-sso does not know; the login was refused. Set a known one with updateOidcClient or updateSamlConnection or upgrade scim-sso.`,
    client.customerId,
  );
}

/**
 * Why the guard refuses these claims before any strategy runs, or null: no subject, no subject claim the
 * strategy matches on, a subject no record may hold, a person outside the customer's tenant. Test SSO shows
 * the same (src/setup/test-evaluation.ts). Pure.
 */
export function claimsRefusal(client: GuardSettings, claims: Claims, identity: SsoIdentity, strategy: SsoMatchingStrategy): SsoLoginError | null {
  const { subject } = identity;
  if (!subject) return new SsoLoginError('missing_claim', 401, `the ID token has no "${client.subjectClaim}" or "sub" claim`, client.customerId);
  if (lacksSubjectClaim(strategy, claims, client.subjectClaim)) {
    return new SsoLoginError('missing_claim', 401, `the ID token has no "${client.subjectClaim}" claim, which ${strategy} matches on`, client.customerId);
  }
  if (!isSsoSubject(subject)) {
    return new SsoLoginError(
      'invalid_response',
      400,
      'the subject claim is too long or holds control characters or a lone UTF-16 surrogate',
      client.customerId,
    );
  }
  // Before anything is looked up or recorded: a person outside the customer's tenant is nobody's user here.
  const outside = requiredClaimsProblem(claims, client.requiredClaims);
  return outside ? new SsoLoginError('outside_tenant', 403, outside, client.customerId) : null;
}

/** What a login decides on, and the user it admits, whole and with its groups. */
interface LoginDecision {
  matches: ScimCandidate[];
  decision: GuardDecision;
  admitted: ScimCandidate | undefined;
  admittedStored: StoredResource | undefined;
}

/**
 * Decides on the holders a login's lookup found, then gets the admitted one whole and with its groups: as
 * found, or read again when the lookup left its groups unread (LoginLookup: it reads the groups of the one
 * active holder only, and the strategy admitted another, one of several active holders the strategy told
 * apart) or gave only its login projection (LoginLookup.projected: a large user). One more round trip then.
 * A user read again whose facts are no longer those the lookup read (a write in between, or a projection left
 * stale by an instance of an earlier version: docs/round-trips.md, "Large users") is decided on again as it
 * now is, or without it if it is gone, so a login never admits on facts its user no longer holds.
 */
async function decideLogin(
  store: Store,
  connection: StoredConnection | null,
  found: LoginLookup,
  decideOn: (candidates: ScimCandidate[], deletedMatch: boolean) => { matches: ScimCandidate[]; decision: GuardDecision },
): Promise<LoginDecision> {
  const candidates = await candidatesOf(found.users);
  const first = decideOn(candidates, found.deletedMatch);
  const admitted = admittedIn(first);
  const stored = admitted ? found.users.find((u) => u.id === admitted.id) : undefined;
  if (!admitted || !stored) return { ...first, admitted: undefined, admittedStored: undefined };
  if ((stored.groups !== undefined && !found.projected?.has(stored.id)) || connection === null) return { ...first, admitted, admittedStored: stored };
  const whole = await store.getResource(connection.connectionId, 'User', stored.id);
  const now = whole ? loginCandidateOf(whole) : null;
  if (whole && now && sameFacts(now, admitted)) return { ...first, admitted, admittedStored: whole };
  // Gone since the lookup: deleted, so a deleted user held the value (the lookup's tombstone check came before).
  const again = decideOn(
    candidates.flatMap((c) => (c.id !== stored.id ? [c] : now ? [now] : [])),
    found.deletedMatch || now === null,
  );
  const readmitted = admittedIn(again);
  return { ...again, admitted: readmitted, admittedStored: readmitted && readmitted.id === whole?.id ? whole : undefined };
}

/** The match a decision admits, if it admits one. */
const admittedIn = ({ matches, decision }: { matches: ScimCandidate[]; decision: GuardDecision }): ScimCandidate | undefined =>
  decision.admit && decision.scimUser ? matches.find((m) => m.id === decision.scimUser!.id) : undefined;

/** Whether two readings of a user hold the same login facts. */
const sameFacts = (a: ScimCandidate, b: ScimCandidate): boolean => a.userName === b.userName && a.externalId === b.externalId && a.active === b.active;

/** Runs the guard. Throws SsoLoginError('store_unavailable', 503) when the store cannot be reached: fail closed. */
export async function runGuard(store: Store, config: GuardConfig, claims: Claims, policy: MatchPolicy = matchPolicyOf(config.client)): Promise<GuardResult> {
  const { client, connection } = config;
  const strategy = strategyOf(client);
  const identity = identityOf(claims, client.subjectClaim);
  const refused = claimsRefusal(client, claims, identity, strategy);
  if (refused) throw refused;
  try {
    // One store call looks the person up and records the attempt with the outcome it implies
    // (Store.recordLogin; one round trip on the memory store and standalone Redis, docs/round-trips.md).
    const lookup = connection ? lookupFor(strategy, identity, policy) : null;
    const { found, recorded, recordRefused } = await store.recordLogin(client.customerId, {
      connectionId: connection?.connectionId ?? null,
      lookup: lookup ? { attribute: lookup.index, value: lookup.value } : null,
      inactiveWhenFalse: 'active',
      user: ssoUserRecord(claims, identity, { admitted: true, reason: null, scimUserId: null }),
    });
    // The index narrows; the strategy decides (the same pure function the matching report uses).
    const { decision, admitted, admittedStored } = await decideLogin(store, connection, found, (candidates, deletedMatch) => {
      const matches = findMatches(strategy, identity, candidates, policy);
      const facts = { hasConnection: connection !== null, matches, deletedMatch };
      return {
        matches,
        decision: decide({ ...facts, distinctPeople: lookup !== null && matchesDistinctPeople(lookup.index), crowded: found.crowded === true }),
      };
    });
    const scimUser: ScimUserView | null = admitted && admittedStored ? scimUserView(admitted, admittedStored) : null;
    const groups = admittedStored ? sessionGroupsOf(admittedStored) : [];
    const kept = sessionGroupsKept(groups);
    const reason = decision.admit ? null : decision.reason;
    const outcome = { admitted: decision.admit, reason, scimUserId: decision.scimUser?.id ?? null };
    // The store restates decide()'s rule (it may not import it): should the two ever differ, this decision
    // is the one recorded, at the cost of a second round trip. A store refusing writes records nothing.
    if (
      !recordRefused &&
      (!recorded ||
        recorded.lastOutcome !== (outcome.admitted ? 'admitted' : 'refused') ||
        recorded.lastReason !== reason ||
        recorded.lastScimUserId !== outcome.scimUserId)
    ) {
      await store.recordSsoUser(client.customerId, ssoUserRecord(claims, identity, outcome));
    }
    return {
      customerId: client.customerId,
      strategy,
      identity,
      decision,
      scimUser,
      sessionUser: {
        customerId: client.customerId,
        connectionId: connection?.connectionId ?? null,
        scimUserId: scimUser?.id ?? null,
        userName: scimUser?.userName ?? null,
        subject: identity.subject,
        // An address the IdP said it has not verified is nobody's to act on: an app linking accounts by
        // email would trust what any user of that IdP typed (a strategy on the subject admits them anyway).
        email: identity.emailVerified === false ? null : identity.email,
        groups: kept.groups,
        ...(kept.truncated ? { groupsTruncated: true } : {}),
        roles: decision.admit ? rolesFor(config.roleMapping ?? null, groups) : [],
      },
    };
  } catch (error) {
    if (isStoreUnavailable(error)) {
      throw new SsoLoginError('store_unavailable', 503, 'the user store is unavailable; the login was refused', client.customerId, { cause: error });
    }
    throw error;
  }
}

/** The error a refused decision becomes. */
export const refusal = (result: GuardResult): ScimUserNotActive | null =>
  result.decision.admit ? null : new ScimUserNotActive(result.customerId, result.decision.reason, result.strategy);
