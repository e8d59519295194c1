/**
 * The SCIM Matching page's data: the matching report cut down to what the page shows (counts per strategy
 * and the report's examples of affected and ambiguous users, REPORT_EXAMPLES each), so a 100,000-user
 * report stays a small page. The same model is rendered by the server (first paint, no JavaScript) and by
 * the page script.
 */
import type { MatchingReport, SsoUserSummary } from '../match/report.js';
import { MATCHING_STRATEGIES, isSsoMatchingStrategy, type SsoMatchingStrategy } from '../match/strategies.js';

export interface ListedUser {
  subject: string;
  /** What the list shows first: email, else preferred_username, else the subject. */
  label: string;
  name: string | null;
  email: string | null;
}

export interface StrategyModel {
  strategy: SsoMatchingStrategy;
  admitted: number;
  inactive: number;
  affected: number;
  ambiguous: number;
  unmatchedScimUsers: number;
  /** The report's examples of affected users (most recently seen first). */
  affectedUsers: ListedUser[];
  /** The report's examples of ambiguous users. */
  ambiguousUsers: ListedUser[];
}

/** The report as the page needs it: the same summary fields, with per-strategy counts and short lists. */
export interface MatchingModel extends Omit<MatchingReport, 'strategies'> {
  /** The Compare page's URL without the subject; the script appends `encodeURIComponent(subject)`. */
  compareUrl: string;
  strategies: StrategyModel[];
}

const listed = (u: SsoUserSummary): ListedUser => ({
  subject: u.subject,
  label: u.email ?? u.preferredUsername ?? u.subject,
  name: u.name,
  email: u.email,
});

export function matchingModel(report: MatchingReport, compareUrl: string): MatchingModel {
  return {
    customerId: report.customerId,
    currentStrategy: report.currentStrategy,
    recommendedStrategy: report.recommendedStrategy,
    reason: report.reason,
    warnings: report.warnings,
    totals: report.totals,
    compareUrl,
    strategies: report.strategies.map((s) => ({
      strategy: s.strategy,
      admitted: s.admitted.count,
      // Deleted users are refused like deactivated ones: the dashboard counts them together.
      inactive: s.inactive.count + s.deleted.count,
      affected: s.affected.count,
      ambiguous: s.ambiguous.count,
      unmatchedScimUsers: s.unmatchedScimUsers.count,
      affectedUsers: s.affected.examples.map(listed),
      ambiguousUsers: s.ambiguous.examples.map((a) => listed(a.ssoUser)),
    })),
  };
}

/** The strategy shown first: `?strategy=` when one of the model's, else the current one, else the recommendation. */
export function initialStrategy(model: MatchingModel, requested: unknown): SsoMatchingStrategy {
  if (isSsoMatchingStrategy(requested) && model.strategies.some((s) => s.strategy === requested)) return requested;
  return model.currentStrategy ?? model.recommendedStrategy ?? model.strategies[2]?.strategy ?? MATCHING_STRATEGIES[2];
}

/** The live summary sentence for one strategy (server and script word it the same way). */
export function summaryText(s: StrategyModel): string {
  const refused = s.affected + s.ambiguous;
  const parts = [`${s.affected} affected user${s.affected === 1 ? '' : 's'} under ${s.strategy}`];
  parts.push(`${s.admitted} admitted`);
  if (s.inactive) parts.push(`${s.inactive} deactivated or deleted in SCIM (correctly refused)`);
  if (s.ambiguous) parts.push(`${s.ambiguous} ambiguous`);
  return `${parts.join(', ')}.${refused === 0 ? ' Nobody is locked out by this strategy.' : ''}`;
}
