/**
 * The SCIM Matching report: a dry run of every strategy of the connection's protocol (five for OIDC, four
 * for SAML: src/match/strategies.ts) over a customer's recorded SSO users and SCIM users, changing nothing.
 * For each strategy it counts the SSO users who would be admitted, refused as deactivated, deleted, not
 * provisioned ("affected") or ambiguous, and the SCIM users nobody matched, with a few examples of each;
 * then it recommends a strategy with its reason in words.
 *
 * It is built a page at a time, so that its memory does not grow with the customer (src/matching-report.ts
 * reads the pages; docs/matching-report.md): `planSsoUsers` says what a page of SSO users needs looked up,
 * `tallySsoUsers` takes the page with what the store answered, `tallyScimUsers` a page of SCIM users in
 * creation order once every SSO user is tallied, and `finishReport` turns the tally into the report. No
 * I/O: the tests run the same steps over users already in memory (test/support/report-in-memory.ts).
 */
import { fold } from '../fold.js';
import { byUtf8, seenScore } from '../seen-order.js';
import type { StoredSsoUser } from '../store/store.js';
import { decide } from './decide.js';
import { countFirst, countInOrder, keepAt, noExamples, type Examples } from './examples.js';
import { rolesFor, type RoleMapping, type SessionGroup } from '../roles/role-mapping.js';
import { SeqSet } from './seq-set.js';
import {
  identityOfSsoUser,
  matchesDistinctPeople,
  strategiesFor,
  type SsoProtocol,
  lookupFor,
  matchesOf,
  type MatchIndex,
  type MatchPolicy,
  type SsoMatchingStrategy,
  type ScimCandidate,
  type StoreLookup,
} from './strategies.js';

export type { Examples } from './examples.js';

/** Examples kept per category and strategy. */
export const REPORT_EXAMPLES = 50;
/** SCIM users listed per ambiguous example. */
export const AMBIGUOUS_LISTED = 10;

export interface SsoUserSummary {
  subject: string;
  email: string | null;
  preferredUsername: string | null;
  name: string | null;
  lastSeenAt: string;
  lastOutcome: 'admitted' | 'refused';
  lastReason: string | null;
}

export interface ScimUserSummary {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
}

/** An SSO user and the one SCIM user a strategy matches it to. */
export interface MatchExample {
  ssoUser: SsoUserSummary;
  scimUser: ScimUserSummary;
  /** The app roles the customer's role mapping gives the SCIM user's groups (admitted only; else empty). */
  roles: string[];
}

/** An SSO user that a strategy matches to several active SCIM users. */
export interface AmbiguousExample {
  ssoUser: SsoUserSummary;
  /** How many active SCIM users it matches. */
  matches: number;
  /** The first AMBIGUOUS_LISTED of them, in creation order. */
  scimUsers: ScimUserSummary[];
}

/**
 * One strategy on the customer's data: counts, and examples of SSO users most recently seen first (SCIM
 * users in creation order).
 */
export interface StrategyEvaluation {
  strategy: SsoMatchingStrategy;
  /** SSO users matching exactly one active SCIM user: they would be admitted. */
  admitted: Examples<MatchExample>;
  /** SSO users matching no active SCIM user but an inactive one: refused as `deactivated`. */
  inactive: Examples<MatchExample>;
  /** SSO users whose only match was deleted from SCIM: refused as `deleted`. */
  deleted: Examples<SsoUserSummary>;
  /** SSO users matching nothing: refused as `not_provisioned` (the dashboard lists them as Inactive). */
  affected: Examples<SsoUserSummary>;
  /** SSO users matching more than one active SCIM user: refused as `ambiguous`. */
  ambiguous: Examples<AmbiguousExample>;
  /** SCIM users no recorded SSO user matches. */
  unmatchedScimUsers: Examples<ScimUserSummary>;
}

export interface MatchingReport {
  customerId: string;
  currentStrategy: SsoMatchingStrategy | null;
  recommendedStrategy: SsoMatchingStrategy | null;
  /** Why the recommendation, in words. */
  reason: string;
  warnings: string[];
  totals: { ssoUsers: number; scimUsers: number };
  strategies: StrategyEvaluation[];
}

/** What the report is about: the customer and its OIDC client's settings. */
export interface ReportContext {
  customerId: string;
  currentStrategy: SsoMatchingStrategy | null;
  idpType: string | null;
  subjectClaim: string | null;
  /** The protocol of the customer's SSO connection: which strategies are evaluated. Default 'oidc'. */
  protocol?: SsoProtocol;
  /** The client's matching policy (matchPolicyOf, src/guard/guard.ts), as the guard applies it. Default: {}. */
  policy?: MatchPolicy;
  /** The customer's role mapping (src/roles/role-mapping.ts): admitted examples show their roles. */
  roleMapping?: RoleMapping | null;
}

/** A SCIM user as matching sees it, with its creation number in the connection (the store's `seq`). */
export type NumberedCandidate = ScimCandidate & { seq: number; groups?: SessionGroup[] };

/** What the store answered for one lookup: the users it found, in creation order, its tombstone flag, and whether the value is crowded (LoginLookup.crowded). */
export interface LookupAnswer {
  users: NumberedCandidate[];
  deletedMatch: boolean;
  crowded?: true;
}

interface StrategyTally extends StrategyEvaluation {
  /** The SCIM users this strategy matched to some SSO user (all matches, ambiguous and inactive included). */
  matched: SeqSet;
}

/** The report so far. */
export interface ReportTally {
  context: ReportContext;
  ssoUsers: number;
  scimUsers: number;
  /** SSO users without an email claim; with email_verified other than true; without email_verified. */
  withoutEmail: number;
  unverified: number;
  unstated: number;
  /** SCIM users whose userName has no `@`: counted when first matched (see `seen`), the others in the second pass. */
  noDomain: number;
  /** The SCIM users some strategy matched (the union of the strategies' `matched`). */
  seen: SeqSet;
  /** Matches under OidcEmailUsernameToScimUsername pairing an email with a userName of another domain. */
  crossingDomains: number;
  strategies: StrategyTally[];
}

/** The key of a lookup, to find its answer again (lookups of several strategies and users coincide). */
export const lookupKey = (index: MatchIndex, value: string): string => `${index}\u0000${value}`;

const summary = (u: StoredSsoUser): SsoUserSummary => ({
  subject: u.subject,
  email: u.email,
  preferredUsername: u.preferredUsername,
  name: u.name,
  lastSeenAt: u.lastSeenAt,
  lastOutcome: u.lastOutcome,
  lastReason: u.lastReason,
});

const scimSummary = (u: ScimCandidate): ScimUserSummary => ({ id: u.id, userName: u.userName, externalId: u.externalId, active: u.active });

/** The domain of an address, folded; null when it has none. */
const domainOf = (value: string | null): string | null => {
  if (!value) return null;
  const at = value.lastIndexOf('@');
  return at === -1 ? null : fold(value.slice(at + 1));
};

export function startReport(context: ReportContext): ReportTally {
  return {
    context,
    ssoUsers: 0,
    scimUsers: 0,
    withoutEmail: 0,
    unverified: 0,
    unstated: 0,
    noDomain: 0,
    seen: new SeqSet(),
    crossingDomains: 0,
    strategies: strategiesFor(context.protocol ?? 'oidc').map((strategy) => ({
      strategy,
      admitted: noExamples(),
      inactive: noExamples(),
      deleted: noExamples(),
      affected: noExamples(),
      ambiguous: noExamples(),
      unmatchedScimUsers: noExamples(),
      matched: new SeqSet(),
    })),
  };
}

/** A page of SSO users and the lookup each needs under each strategy. */
export interface SsoUserPlan {
  users: StoredSsoUser[];
  /** The distinct lookups the page needs: what to ask the store. */
  distinct: StoreLookup[];
  /** `at[u][s]`: the position in `distinct` of user u's lookup under the tally's strategy s; -1 for none. */
  at: number[][];
}

/** What a page of SSO users needs looked up under the protocol's strategies. */
export function planSsoUsers(tally: ReportTally, users: StoredSsoUser[]): SsoUserPlan {
  const positions = new Map<string, number>();
  const distinct: StoreLookup[] = [];
  const at = users.map((user) => {
    const identity = identityOfSsoUser(user);
    return tally.strategies.map(({ strategy }) => {
      const lookup = lookupFor(strategy, identity, tally.context.policy);
      if (!lookup) return -1;
      const key = lookupKey(lookup.index, lookup.value);
      let position = positions.get(key);
      if (position === undefined) {
        positions.set(key, (position = distinct.length));
        distinct.push(lookup);
      }
      return position;
    });
  });
  return { users, distinct, at };
}

const NOTHING: LookupAnswer = { users: [], deletedMatch: false };

/** Where an SSO user goes in the examples' order (src/seen-order.ts), computed once per user. */
interface SeenKey {
  score: number;
  subject: string;
}
/** The key of each kept example (pair or summary), to compare newcomers with. */
const keys = new WeakMap<object, SeenKey>();
const before = (key: SeenKey, example: object): number => {
  const other = keys.get(example)!;
  return key.score - other.score || byUtf8(key.subject, other.subject);
};

/** Counts an SSO user in `list`: where its example goes among the first, or -1 when it is not kept. */
const place = <T extends object>(list: Examples<T>, key: SeenKey): number => countInOrder(list, REPORT_EXAMPLES, key, before);

/** Keeps `item` as an example at `at` (from place). */
function keep<T extends object>(list: Examples<T>, at: number, key: SeenKey, item: T): void {
  keys.set(item, key);
  keepAt(list, REPORT_EXAMPLES, at, item);
}

/**
 * Tallies a planned page of SSO users under every strategy, those from `from` up to `to` (the whole page by
 * default; the report tallies it in slices with a yield between); `answers[i]` is what the store answered for
 * `plan.distinct[i]`. Each decision is the guard's own (the strategy's lookup and `matchesOf`, as
 * `findMatches` does, then `decide`), so the report can never disagree with a login. Examples are made
 * only when kept: most users cost no allocation beyond the decision.
 */
export function tallySsoUsers(tally: ReportTally, plan: SsoUserPlan, answers: LookupAnswer[], from = 0, to = plan.users.length): void {
  const { users, at: positions, distinct } = plan;
  for (let u = from; u < Math.min(to, users.length); u++) {
    const user = users[u]!;
    tally.ssoUsers++;
    if (!user.email) tally.withoutEmail++;
    if (user.emailVerified === false) tally.unverified++;
    if (user.email && user.emailVerified === null) tally.unstated++;
    const key: SeenKey = { score: seenScore(user.lastSeenAt), subject: user.subject };
    let ssoUser: SsoUserSummary | undefined; // made once, when the user is first kept as an example
    for (let k = 0; k < tally.strategies.length; k++) {
      const s = tally.strategies[k]!;
      const position = positions[u]![k]!;
      const found = position === -1 ? NOTHING : answers[position]!;
      const lookup = position === -1 ? null : distinct[position]!;
      const matches = matchesOf(lookup, found.users);
      for (const m of matches) {
        s.matched.add(m.seq);
        if (tally.seen.has(m.seq)) continue;
        tally.seen.add(m.seq);
        if (!m.userName.includes('@')) tally.noDomain++;
      }
      const decision = decide({
        hasConnection: true,
        matches,
        deletedMatch: found.deletedMatch,
        distinctPeople: lookup !== null && matchesDistinctPeople(lookup.index),
        crowded: found.crowded === true,
      });
      if (decision.admit || decision.reason === 'deactivated') {
        const scimUser = decision.scimUser!;
        const list = decision.admit ? s.admitted : s.inactive;
        const at = place(list, key);
        if (at !== -1) {
          const roles = decision.admit ? rolesFor(tally.context.roleMapping ?? null, (scimUser as NumberedCandidate).groups ?? []) : [];
          keep(list, at, key, { ssoUser: (ssoUser ??= summary(user)), scimUser: scimSummary(scimUser), roles });
        }
        if (s.strategy === 'OidcEmailUsernameToScimUsername') {
          const [sso, scim] = [domainOf(user.email), domainOf(scimUser.userName)];
          if (sso !== null && scim !== null && sso !== scim) tally.crossingDomains++;
        }
      } else if (decision.reason === 'ambiguous') {
        const at = place(s.ambiguous, key);
        if (at === -1) continue;
        const active = matches.filter((m) => m.active);
        const example = { ssoUser: (ssoUser ??= summary(user)), matches: active.length, scimUsers: active.slice(0, AMBIGUOUS_LISTED).map(scimSummary) };
        keep(s.ambiguous, at, key, example);
      } else {
        // One summary may be an example in several categories: each keeps the same key for it.
        const list = decision.reason === 'deleted' ? s.deleted : s.affected;
        const at = place(list, key);
        if (at !== -1) keep(list, at, key, (ssoUser ??= summary(user)));
      }
    }
  }
}

/**
 * Tallies a page of SCIM users, in creation order, after every SSO user: those a strategy's matches did not
 * include are its unmatched ones (examples: the first created). `candidate(seq)` is the user at that
 * position (its JSON parsed), or null when it was deleted since: asked only where {@link scimUserWanted}
 * says, so most users of a well-matched customer are never read twice (their userName was read when matched).
 */
/**
 * Tallies a page of SCIM users by position. `userNames` (folded, aligned with `seqs`, from the store's index
 * entries) count the users nobody matched whose userName has no domain; without them those users are read
 * in full for it. `candidate` reads a user in full (null: deleted since its position was read).
 */
export function tallyScimUsers(
  tally: ReportTally,
  seqs: readonly number[],
  candidate: (seq: number) => ScimCandidate | null,
  userNames?: readonly string[],
): void {
  seqs.forEach((seq, i) => {
    let read: ScimCandidate | null = null;
    if (scimUserWanted(tally, seq, userNames !== undefined) && (read = candidate(seq)) === null) return;
    tally.scimUsers++;
    if (!tally.seen.has(seq) && !(userNames?.[i] ?? read!.userName).includes('@')) tally.noDomain++;
    for (const { matched, unmatchedScimUsers: list } of tally.strategies) {
      if (!matched.has(seq) && countFirst(list, REPORT_EXAMPLES)) list.examples.push(scimSummary(read!));
    }
  });
}

/**
 * Whether tallyScimUsers will read the SCIM user at `seq`: one a strategy left unmatched while that strategy
 * still takes examples, or, unless its userName is known (`namesKnown`), one nobody matched (for the users
 * without a domain). Asked before a page is tallied it may answer yes for a user the page's tally then no
 * longer reads (its examples filled), never the other way.
 */
export function scimUserWanted(tally: ReportTally, seq: number, namesKnown = false): boolean {
  if (!namesKnown && !tally.seen.has(seq)) return true;
  return tally.strategies.some(({ matched, unmatchedScimUsers: list }) => !matched.has(seq) && list.examples.length < REPORT_EXAMPLES);
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** The strategy that admits the most SSO users with no ambiguous match; ties keep the current one. */
function recommend(tally: ReportTally, evaluations: StrategyEvaluation[]): { strategy: SsoMatchingStrategy | null; reason: string } {
  const current = tally.context.currentStrategy;
  if (tally.ssoUsers === 0) {
    return { strategy: null, reason: 'No one has logged in through this OIDC client yet: there is no data to compare strategies on.' };
  }
  const safe = evaluations.filter((e) => e.ambiguous.count === 0);
  const pool = safe.length ? safe : evaluations;
  const rank = (e: StrategyEvaluation) => e.admitted.count + e.inactive.count;
  const best = [...pool].sort((a, b) => rank(b) - rank(a) || Number(b.strategy === current) - Number(a.strategy === current))[0]!;
  const total = tally.ssoUsers;
  const parts = [`${best.strategy} matches ${rank(best)} of ${total} SSO user${plural(total, '', 's')} to exactly one SCIM user`];
  if (best.inactive.count) parts.push(`(${best.inactive.count} of them deactivated in SCIM, correctly refused)`);
  if (best.affected.count) parts.push(`and leaves ${best.affected.count} unmatched`);
  if (!safe.length) parts.push('— every strategy has ambiguous matches; fix duplicate userNames or externalIds first');
  else if (best.strategy === current) parts.push('— it is the current strategy; no change needed');
  else if (current) {
    const now = evaluations.find((e) => e.strategy === current)!;
    parts.push(`— the current ${current} matches ${rank(now)}${now.ambiguous.count ? ` with ${now.ambiguous.count} ambiguous` : ''}`);
  }
  return { strategy: best.strategy, reason: `${parts.join(' ')}.` };
}

function warningsFor(tally: ReportTally, recommended: SsoMatchingStrategy | null): string[] {
  const { currentStrategy, idpType, subjectClaim, policy } = tally.context;
  const warnings: string[] = [];
  const crossing = tally.crossingDomains;
  if (crossing && [currentStrategy, recommended].includes('OidcEmailUsernameToScimUsername')) {
    warnings.push(
      `${crossing} match${plural(crossing, '', 'es')} under OidcEmailUsernameToScimUsername pair${plural(crossing, 's', '')} an email with a SCIM userName in another domain: this strategy ignores domains, so anyone whose IdP issues that local part in any domain would match. Use it only when the IdP issues emails in the customer's own domains.`,
    );
  }
  if (idpType === 'MicrosoftEntra' && subjectClaim === 'sub' && currentStrategy?.startsWith('OidcSub')) {
    warnings.push(
      'This Entra client matches on "sub", which Entra makes pairwise per application: it never equals anything SCIM sends. Use subjectClaim "oid" with OidcSubToScimExternalId (map externalId ← objectId in the Entra SCIM app).',
    );
  }
  const { withoutEmail, unverified, unstated, noDomain } = tally;
  if (withoutEmail)
    warnings.push(
      `${withoutEmail} SSO user${plural(withoutEmail, ' has', 's have')} no email claim: the email strategies cannot match them (check the "email" scope and claim mapping).`,
    );
  if (unverified)
    warnings.push(
      `${unverified} SSO user${plural(unverified, ' has', 's have')} email_verified other than true: email strategies never match an unverified email.`,
    );
  if (unstated && policy?.requireVerifiedEmail) {
    warnings.push(
      `${unstated} SSO user${plural(unstated, ' has', 's have')} no email_verified claim: with requireVerifiedEmail the email strategies cannot match ${plural(unstated, 'it', 'them')} (Entra never sends the claim).`,
    );
  }
  if (noDomain)
    warnings.push(
      `${noDomain} SCIM userName${plural(noDomain, ' has', 's have')} no domain: OidcEmailToScimUsername cannot match ${plural(noDomain, 'it', 'them')}; OidcEmailUsernameToScimUsername compares local parts instead.`,
    );
  return warnings;
}

/** The report from a finished tally. */
export function finishReport(tally: ReportTally): MatchingReport {
  const strategies: StrategyEvaluation[] = tally.strategies.map(({ matched: _, ...evaluation }) => evaluation);
  const { strategy, reason } = recommend(tally, strategies);
  return {
    customerId: tally.context.customerId,
    currentStrategy: tally.context.currentStrategy,
    recommendedStrategy: strategy,
    reason,
    warnings: warningsFor(tally, strategy),
    totals: { ssoUsers: tally.ssoUsers, scimUsers: tally.scimUsers },
    strategies,
  };
}
