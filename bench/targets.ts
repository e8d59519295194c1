/** The targets of issue 13 (and issue 11 for groups), evaluated on one run's figures (ratios within the run). */
import type { Report, Target } from './report.js';

export function evaluateTargets(report: Report): Target[] {
  const targets: Target[] = [];
  // The median of the runs' ratios (3 runs in the full run, 1 with --quick: bench/main-phases.ts medianOfRuns).
  for (const [server, label, goal] of [
    ['scim-redis', 'redis', 0.9],
    ['scim-memory', 'memory', 1.0],
  ] as const) {
    for (const row of report.phases.filter((r) => r.server === server)) {
      const value = row.ratio?.rps ?? null;
      const runs = row.runs && row.runs.length > 1 ? ` (median of ${row.runs.length})` : '';
      targets.push({
        name: `${label} req/s ×limit${runs}: ${row.phase}`,
        value,
        goal: `≥ ${goal.toFixed(1)}`,
        met: row.status === 'ok' && value !== null && value >= goal,
      });
    }
  }
  for (const r of report.scaleRatios.filter((x) => x.server === 'scim-redis')) {
    targets.push({ name: `redis p50 largest/smallest: ${r.phase}`, value: r.ratio, goal: '≤ 1.2', met: r.ratio <= 1.2 });
    targets.push({ name: `  the same ÷ the limit's (same slices)`, value: r.ratioToLimit, goal: '≤ 1.2', met: r.ratioToLimit <= 1.2 });
  }
  for (const r of report.scale.filter((x) => x.server === 'scim-redis' && x.status !== 'ok')) {
    targets.push({ name: `redis scale ${r.phase} at ${r.users}`, value: null, goal: 'correct', met: false });
  }
  const provisioned = report.scaleProvisioning;
  if (provisioned) {
    targets.push({
      name: `provisioning ${provisioned.users} users over HTTP at concurrency ${provisioned.connections} completes (users/s)`,
      value: provisioned.rate,
      goal: 'completes',
      met: provisioned.completed,
    });
  }
  if (report.groups) {
    const { ratios, failure, rows } = report.groups;
    const sizes = rows.length > 0 ? `${rows[0]!.members} → ${rows[rows.length - 1]!.members} members` : 'group';
    targets.push({ name: `group built with PATCHes of 1,000, no 5xx (${sizes})`, value: null, goal: 'no failure', met: failure === null });
    for (const [name, value] of [
      ['PATCH add', ratios?.addP50],
      ['PATCH remove', ratios?.removeP50],
      ['GET without members', ratios?.getP50],
    ] as const) {
      targets.push({ name: `group p50 largest/smallest: ${name}`, value: value ?? null, goal: '≤ 2', met: value !== undefined && value <= 2 });
    }
  }
  const guard = report.guard as { decisionRoundTrips: number; p50: number; wrong: number } | null;
  if (guard) {
    targets.push({
      name: 'guard round trips per login decision',
      value: guard.decisionRoundTrips,
      goal: '= 1',
      met: guard.decisionRoundTrips === 1 && guard.wrong === 0,
    });
    targets.push({ name: 'guard time p50 (ms)', value: guard.p50, goal: '≤ 0.5', met: guard.p50 <= 0.5 && guard.wrong === 0 });
  }
  const logins = report.logins as Record<string, { ratioToPlain: number; wrong: number }> | null;
  if (logins?.guard) {
    targets.push({
      name: 'logins/s guard ×pass-through',
      value: logins.guard.ratioToPlain,
      goal: '≥ 1.0',
      met: logins.guard.ratioToPlain >= 1.0 && logins.guard.wrong === 0,
    });
  }
  const events = report.events as { ratioOnToOff: number } | null;
  if (events) {
    targets.push({ name: 'write throughput, events on ×off (issue 14)', value: events.ratioOnToOff, goal: '≥ 0.9', met: events.ratioOnToOff >= 0.9 });
  }
  const largest = report.matching.at(-1);
  if (largest) {
    const size = `${largest.scimUsers} + ${largest.ssoUsers} users`;
    targets.push({ name: `matching report (s), ${size}`, value: largest.reportMs / 1000, goal: '≤ 5', met: largest.correct && largest.reportMs <= 5000 });
    targets.push({ name: `customer page p50 (ms), ${size}`, value: largest.pageP50, goal: '≤ 200', met: largest.pageP50 <= 200 });
    targets.push({ name: `customer page p50 (ms), last pages, ${size}`, value: largest.deepPageP50, goal: '≤ 200', met: largest.deepPageP50 <= 200 });
  }
  for (const m of report.memory.filter((x) => x.server === 'scim-redis')) {
    const ratio = m.ratio as number;
    targets.push({ name: `redis bytes per user ×JSON (${m.users} users)`, value: ratio, goal: '≤ 2', met: ratio <= 2 });
    const users = m.ratioWithoutEventLog as number;
    targets.push({ name: `  the same without the provisioning event log`, value: users, goal: '≤ 2', met: users <= 2 });
  }
  return targets;
}
