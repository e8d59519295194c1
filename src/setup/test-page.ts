/**
 * The Test SSO pages: the start form, and the result of a test login: the validated claims, for each
 * strategy the SCIM user it would match and the guard's decision, the outcome under the current strategy,
 * and the hints to fix a mismatch. Nothing here signs anyone in to the app.
 */
import { html, type SafeHtml } from '../dashboard/html.js';
import { moreNote } from '../dashboard/name-list.js';
import type { GuardDecision } from '../match/decide.js';
import type { MatchingStrategy, StoreLookup } from '../match/strategies.js';
import { copyable, csrfInput, portalLayout, type PortalContext } from './layout.js';

export interface TestCandidate {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
}

/**
 * SCIM users a strategy's row lists: a value may have 100 holders (quota.maxResourcesPerValue) of 1,024-character
 * userNames and externalIds, and five rows of them would be megabytes of page; the rest are counted.
 */
export const MATCHED_SHOWN = 10;

export interface TestRow {
  strategy: MatchingStrategy;
  lookup: StoreLookup | null;
  matched: TestCandidate[];
  decision: GuardDecision;
}

export interface TestResult {
  claims: Record<string, unknown>;
  current: MatchingStrategy;
  rows: TestRow[];
  hints: string[];
  /** Why the guard refuses these claims before any strategy runs (src/guard/guard.ts claimsRefusal), or null. */
  refusedFirst: { code: string; message: string } | null;
}

/** Claims shown, in this order first; values bounded. */
const SHOWN_FIRST = ['sub', 'oid', 'email', 'email_verified', 'preferred_username', 'name', 'iss', 'aud'];
const MAX_CLAIMS = 40;

const claimText = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** A row's SCIM users: the first MATCHED_SHOWN, then how many more. */
function matchedList(matched: TestCandidate[]): SafeHtml {
  const shown = matched
    .slice(0, MATCHED_SHOWN)
    .map(
      (m) =>
        html`<div>${m.userName}${m.externalId ? html` <span class="muted">(externalId ${m.externalId})</span>` : ''}${m.active ? '' : ' — deactivated'}</div>`,
    );
  return html`${shown}${matched.length > MATCHED_SHOWN ? html`<div>${moreNote(matched.length - MATCHED_SHOWN, 'SCIM user')}</div>` : ''}`;
}

function outcome(decision: GuardDecision, matched: TestCandidate[]): SafeHtml {
  if (decision.admit) {
    const user = matched.find((m) => m.id === decision.scimUser?.id);
    return html`<span class="badge ok">Admitted${user ? ` as ${user.userName}` : ''}</span>`;
  }
  return html`<span class="badge bad">Refused: ${decision.reason}</span>`;
}

export function testStartPage(ctx: PortalContext, testRedirectUri: string, hasClient: boolean, problem?: string): string {
  const body = hasClient
    ? html`${problem ? html`<p class="error" role="alert" id="test-error">${problem}</p>` : ''}
<p>Log in through your IdP as any user to see what the app would decide. This creates <strong>no session</strong> in the app and records nothing.</p>
<p>The IdP application must list the test redirect URI: ${copyable('test-redirect-uri', testRedirectUri, 'the test redirect URI')}</p>
<form method="post" action="${ctx.base}/test">${csrfInput(ctx)}
<div class="field"><label for="loginHint">Log in as (optional login hint)</label><input id="loginHint" name="loginHint" type="text" maxlength="300" autocomplete="off"></div>
<button type="submit">Start a test login</button></form>`
    : html`<p class="notice">Set up single sign-on first: <a href="${ctx.base}/sso">Single sign-on</a>.</p>`;
  return portalLayout(ctx, 'test', 'Test SSO', body);
}

export function testResultPage(ctx: PortalContext, result: TestResult): string {
  const names = Object.keys(result.claims);
  const ordered = [...SHOWN_FIRST.filter((n) => Object.hasOwn(result.claims, n)), ...names.filter((n) => !SHOWN_FIRST.includes(n))].slice(0, MAX_CLAIMS);
  const current = result.rows.find((r) => r.strategy === result.current)!;
  const body = html`<section aria-labelledby="verdict"><h2 id="verdict">Outcome under the current strategy</h2>
<p id="test-outcome">${
    result.refusedFirst
      ? html`<span class="badge bad">Refused: ${result.refusedFirst.code}</span> before any strategy`
      : html`${outcome(current.decision, current.matched)} with <code>${result.current}</code>`
  }</p>
${result.hints.length ? html`<div class="notice" id="test-hints"><h3>How to fix it</h3><ul>${result.hints.map((h) => html`<li>${h}</li>`)}</ul></div>` : ''}
</section>
<section aria-labelledby="claims-h"><h2 id="claims-h">Validated claims</h2>
<table id="claims"><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead>
<tbody>${ordered.map((n) => html`<tr><th scope="row">${n}</th><td><code>${claimText(result.claims[n])}</code></td></tr>`)}</tbody></table></section>
<section aria-labelledby="strategies-h"><h2 id="strategies-h">What each strategy would match</h2>
<table id="strategies"><thead><tr><th scope="col">Strategy</th><th scope="col">Looks up</th><th scope="col">SCIM user</th><th scope="col">Outcome</th></tr></thead>
<tbody>${result.rows.map(
    (
      r,
    ) => html`<tr${r.strategy === result.current ? html` class="current"` : ''} data-strategy="${r.strategy}"><th scope="row">${r.strategy}${r.strategy === result.current ? ' (current)' : ''}</th>
<td>${r.lookup ? html`<code>${r.lookup.index} = ${r.lookup.value}</code>` : html`<span class="muted">the login lacks the claim</span>`}</td>
<td>${r.matched.length ? matchedList(r.matched) : html`<span class="muted">none</span>`}</td>
<td>${outcome(r.decision, r.matched)}</td></tr>`,
  )}</tbody></table></section>
<p><a href="${ctx.base}/test">Run another test login</a></p>`;
  return portalLayout(ctx, 'test', 'Test SSO result', body);
}
