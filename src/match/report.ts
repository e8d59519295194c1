/**
 * The SCIM Matching report: a dry run of all five strategies over a customer's recorded SSO users and SCIM
 * users, changing nothing. For each strategy it sorts SSO users into admitted / inactive / affected /
 * ambiguous, lists SCIM users nobody matched, and recommends a strategy with its reason in words.
 *
 * Cost: one pass over the SSO users and one over the SCIM users (read in pages of 500), then for each
 * strategy one hash map over the SCIM users and one lookup per SSO user: O(5 · (S + U)) time, O(S + U) memory.
 */
import { fold, localPart } from '../fold.js';
import { decide } from './decide.js';
import type { StoredSsoUser } from '../store/store.js';
import {
  MATCHING_STRATEGIES,
  findMatches,
  lookupFor,
  type MatchIndex,
  type MatchPolicy,
  type MatchingStrategy,
  type ScimCandidate,
  type SsoIdentity,
} from './strategies.js';

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

export interface StrategyEvaluation {
  strategy: MatchingStrategy;
  /** SSO users matching exactly one active SCIM user: they would be admitted. */
  admitted: { ssoUser: SsoUserSummary; scimUser: ScimUserSummary }[];
  /** SSO users matching exactly one inactive SCIM user: refused as `deactivated`. */
  inactive: { ssoUser: SsoUserSummary; scimUser: ScimUserSummary }[];
  /** SSO users whose only match was deleted from SCIM: refused as `deleted`. */
  deleted: SsoUserSummary[];
  /** SSO users matching nothing: refused as `not_provisioned` (the dashboard lists them as Inactive). */
  affected: SsoUserSummary[];
  /** SSO users matching more than one SCIM user: refused as `ambiguous`. */
  ambiguous: { ssoUser: SsoUserSummary; scimUsers: ScimUserSummary[] }[];
  /** SCIM users no recorded SSO user matches. */
  unmatchedScimUsers: ScimUserSummary[];
}

export interface MatchingReport {
  customerId: string;
  currentStrategy: MatchingStrategy | null;
  recommendedStrategy: MatchingStrategy | null;
  /** Why the recommendation, in words. */
  reason: string;
  warnings: string[];
  totals: { ssoUsers: number; scimUsers: number };
  strategies: StrategyEvaluation[];
}

export interface ReportInput {
  customerId: string;
  currentStrategy: MatchingStrategy | null;
  idpType: string | null;
  subjectClaim: string | null;
  ssoUsers: StoredSsoUser[];
  scimUsers: ScimCandidate[];
  /** Index lookups (see lookupKey) that a deleted SCIM user once answered; read by the loader from the store. */
  deletedLookups?: ReadonlySet<string>;
  /** The client's matching policy (guard.ts matchPolicyOf), as the guard applies it. Default: {}. */
  policy?: MatchPolicy;
}

/** The key of an index lookup in `deletedLookups`. */
export const lookupKey = (index: MatchIndex, value: string): string => `${index}\u0000${value}`;

/** The lookups of SSO users that no live SCIM user matches, per the report: the ones worth a tombstone check. */
export function unmatchedLookups(report: MatchingReport, ssoUsers: StoredSsoUser[], policy: MatchPolicy = {}): { attribute: MatchIndex; value: string }[] {
  const bySubject = new Map(ssoUsers.map((u) => [u.subject, u]));
  const seen = new Map<string, { attribute: MatchIndex; value: string }>();
  for (const evaluation of report.strategies) {
    for (const summary of evaluation.affected) {
      const user = bySubject.get(summary.subject);
      const lookup = user ? lookupFor(evaluation.strategy, identityOf(user), policy) : null;
      if (lookup) seen.set(lookupKey(lookup.index, lookup.value), { attribute: lookup.index, value: lookup.value });
    }
  }
  return [...seen.values()];
}

const identityOf = (u: StoredSsoUser): SsoIdentity => ({
  subject: u.subject,
  email: u.email,
  emailVerified: u.emailVerified,
  preferredUsername: u.preferredUsername,
});

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

/** The SCIM users grouped by the key each index would hold (the same keys the store indexes use). */
function indexBy(index: MatchIndex, users: ScimCandidate[]): Map<string, ScimCandidate[]> {
  const map = new Map<string, ScimCandidate[]>();
  for (const user of users) {
    const key = index === 'userName' ? fold(user.userName) : index === 'externalId' ? user.externalId : fold(localPart(user.userName));
    if (key === null || key === '') continue;
    const list = map.get(key);
    if (list) list.push(user);
    else map.set(key, [user]);
  }
  return map;
}

export function evaluateStrategy(
  strategy: MatchingStrategy,
  ssoUsers: StoredSsoUser[],
  scimUsers: ScimCandidate[],
  indexes: Map<MatchIndex, Map<string, ScimCandidate[]>>,
  deletedLookups: ReadonlySet<string> = new Set(),
  policy: MatchPolicy = {},
): StrategyEvaluation {
  const evaluation: StrategyEvaluation = { strategy, admitted: [], inactive: [], deleted: [], affected: [], ambiguous: [], unmatchedScimUsers: [] };
  const matched = new Set<string>();
  for (const ssoUser of ssoUsers) {
    const identity = identityOf(ssoUser);
    const lookup = lookupFor(strategy, identity, policy);
    const candidates = lookup ? (indexes.get(lookup.index)?.get(lookup.value) ?? []) : [];
    const matches = findMatches(strategy, identity, candidates, policy);
    for (const m of matches) matched.add(m.id);
    // The guard's own decision (src/match/decide.ts), so the report can never disagree with a login.
    const deletedMatch = lookup !== null && deletedLookups.has(lookupKey(lookup.index, lookup.value));
    const decision = decide({ hasConnection: true, matches, deletedMatch });
    if (decision.admit) evaluation.admitted.push({ ssoUser: summary(ssoUser), scimUser: scimSummary(decision.scimUser!) });
    else if (decision.reason === 'ambiguous')
      evaluation.ambiguous.push({ ssoUser: summary(ssoUser), scimUsers: matches.filter((m) => m.active).map(scimSummary) });
    else if (decision.reason === 'deactivated') evaluation.inactive.push({ ssoUser: summary(ssoUser), scimUser: scimSummary(decision.scimUser!) });
    else (decision.reason === 'deleted' ? evaluation.deleted : evaluation.affected).push(summary(ssoUser));
  }
  evaluation.unmatchedScimUsers = scimUsers.filter((u) => !matched.has(u.id)).map(scimSummary);
  return evaluation;
}

/** The strategy that admits the most SSO users with no ambiguous match; ties keep the current one. */
function recommend(input: ReportInput, evaluations: StrategyEvaluation[]): { strategy: MatchingStrategy | null; reason: string } {
  if (input.ssoUsers.length === 0) {
    return { strategy: null, reason: 'No one has logged in through this OIDC client yet: there is no data to compare strategies on.' };
  }
  const safe = evaluations.filter((e) => e.ambiguous.length === 0);
  const pool = safe.length ? safe : evaluations;
  const rank = (e: StrategyEvaluation) => e.admitted.length + e.inactive.length;
  const best = [...pool].sort((a, b) => rank(b) - rank(a) || Number(b.strategy === input.currentStrategy) - Number(a.strategy === input.currentStrategy))[0]!;
  const total = input.ssoUsers.length;
  const matchedCount = rank(best);
  const parts = [`${best.strategy} matches ${matchedCount} of ${total} SSO user${total === 1 ? '' : 's'} to exactly one SCIM user`];
  if (best.inactive.length) parts.push(`(${best.inactive.length} of them deactivated in SCIM, correctly refused)`);
  if (best.affected.length) parts.push(`and leaves ${best.affected.length} unmatched`);
  if (!safe.length) parts.push('— every strategy has ambiguous matches; fix duplicate userNames or externalIds first');
  else if (best.strategy === input.currentStrategy) parts.push('— it is the current strategy; no change needed');
  else if (input.currentStrategy) {
    const current = evaluations.find((e) => e.strategy === input.currentStrategy)!;
    parts.push(
      `— the current ${input.currentStrategy} matches ${rank(current)}${current.ambiguous.length ? ` with ${current.ambiguous.length} ambiguous` : ''}`,
    );
  }
  return { strategy: best.strategy, reason: `${parts.join(' ')}.` };
}

/** The domain of an address, folded; null when it has none. */
const domainOf = (value: string | null): string | null => {
  if (!value) return null;
  const at = value.lastIndexOf('@');
  return at === -1 ? null : fold(value.slice(at + 1));
};

function warningsFor(input: ReportInput, evaluations: StrategyEvaluation[], recommended: MatchingStrategy | null): string[] {
  const warnings: string[] = [];
  for (const strategy of new Set([input.currentStrategy, recommended])) {
    if (strategy !== 'OidcEmailUsernameToScimUsername') continue;
    const evaluation = evaluations.find((e) => e.strategy === strategy)!;
    const crossing = [...evaluation.admitted, ...evaluation.inactive].filter(({ ssoUser, scimUser }) => {
      const [sso, scim] = [domainOf(ssoUser.email), domainOf(scimUser.userName)];
      return sso !== null && scim !== null && sso !== scim;
    }).length;
    if (crossing) {
      warnings.push(
        `${crossing} match${crossing === 1 ? '' : 'es'} under OidcEmailUsernameToScimUsername pair${crossing === 1 ? 's' : ''} an email with a SCIM userName in another domain: this strategy ignores domains, so anyone whose IdP issues that local part in any domain would match. Use it only when the IdP issues emails in the customer's own domains.`,
      );
    }
  }
  if (input.idpType === 'MicrosoftEntra' && input.subjectClaim === 'sub' && input.currentStrategy?.startsWith('OidcSub')) {
    warnings.push(
      'This Entra client matches on "sub", which Entra makes pairwise per application: it never equals anything SCIM sends. Use subjectClaim "oid" with OidcSubToScimExternalId (map externalId ← objectId in the Entra SCIM app).',
    );
  }
  const withoutEmail = input.ssoUsers.filter((u) => !u.email).length;
  if (withoutEmail)
    warnings.push(
      `${withoutEmail} SSO user${withoutEmail === 1 ? ' has' : 's have'} no email claim: the email strategies cannot match them (check the "email" scope and claim mapping).`,
    );
  const unverified = input.ssoUsers.filter((u) => u.emailVerified === false).length;
  if (unverified)
    warnings.push(
      `${unverified} SSO user${unverified === 1 ? ' has' : 's have'} email_verified other than true: email strategies never match an unverified email.`,
    );
  const unstated = input.ssoUsers.filter((u) => u.email && u.emailVerified === null).length;
  if (unstated && input.policy?.requireVerifiedEmail) {
    warnings.push(
      `${unstated} SSO user${unstated === 1 ? ' has' : 's have'} no email_verified claim: with requireVerifiedEmail the email strategies cannot match ${unstated === 1 ? 'it' : 'them'} (Entra never sends the claim).`,
    );
  }
  const noDomain = input.scimUsers.filter((u) => !u.userName.includes('@')).length;
  if (noDomain)
    warnings.push(
      `${noDomain} SCIM userName${noDomain === 1 ? ' has' : 's have'} no domain: OidcEmailToScimUsername cannot match ${noDomain === 1 ? 'it' : 'them'}; OidcEmailUsernameToScimUsername compares local parts instead.`,
    );
  return warnings;
}

/** Builds the report from already-loaded users. Pure. */
export function buildMatchingReport(input: ReportInput): MatchingReport {
  const indexes = new Map<MatchIndex, Map<string, ScimCandidate[]>>(
    (['userName', 'externalId', 'userNameLocal'] as MatchIndex[]).map((index) => [index, indexBy(index, input.scimUsers)]),
  );
  const strategies = MATCHING_STRATEGIES.map((s) => evaluateStrategy(s, input.ssoUsers, input.scimUsers, indexes, input.deletedLookups, input.policy));
  const { strategy, reason } = recommend(input, strategies);
  return {
    customerId: input.customerId,
    currentStrategy: input.currentStrategy,
    recommendedStrategy: strategy,
    reason,
    warnings: warningsFor(input, strategies, strategy),
    totals: { ssoUsers: input.ssoUsers.length, scimUsers: input.scimUsers.length },
    strategies,
  };
}
