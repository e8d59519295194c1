/**
 * The Compare page: one SSO user's claims side by side with the candidate SCIM user(s), one row per
 * strategy with the two compared values highlighted (green when they match, red when not, and said in
 * words too), and the outcome the guard would give under that strategy. Candidates and their emails and
 * groups are shown as far as CANDIDATES_SHOWN and LIST_CHARS go (compare-data.ts, name-list.ts).
 */
import { localPart } from '../fold.js';
import { matches, type MatchPolicy, type SsoIdentity, type SsoMatchingStrategy } from '../match/strategies.js';
import type { GuardDecision } from '../match/decide.js';
import { currentStrategyOf, type Candidate, type CompareData, type StrategyComparison } from './compare-data.js';
import { enc, html, type SafeHtml } from './html.js';
import { layout, time, type PageContext } from './layout.js';
import { firstNames, inlineNames, moreNote } from './name-list.js';

interface Sides {
  /** The SSO claim compared, e.g. `email`. */
  claim: string;
  value: string | null;
  /** Why the SSO value is not used, when it is not. */
  note: string | null;
  /** The SCIM attribute compared. */
  attribute: 'userName' | 'externalId';
  /** Only the part before the last `@` is compared, on both sides. */
  localOnly: boolean;
}

function sides(strategy: SsoMatchingStrategy, identity: SsoIdentity, subjectClaim: string, policy: MatchPolicy): Sides {
  const unverified =
    identity.emailVerified === false
      ? 'email_verified is not true: the email is not used'
      : identity.emailVerified === null && policy.requireVerifiedEmail
        ? 'no email_verified claim, and this client requires a verified email: the email is not used'
        : null;
  switch (strategy) {
    case 'OidcSubToScimUsername':
      return { claim: subjectClaim, value: identity.subject, note: null, attribute: 'userName', localOnly: false };
    case 'OidcSubToScimExternalId':
      return { claim: subjectClaim, value: identity.subject, note: null, attribute: 'externalId', localOnly: false };
    case 'OidcEmailToScimUsername':
      return { claim: 'email', value: identity.email, note: unverified, attribute: 'userName', localOnly: false };
    case 'OidcEmailUsernameToScimUsername':
      return { claim: 'email', value: identity.email, note: unverified, attribute: 'userName', localOnly: true };
    case 'OidcPreferredUsernameToScimUsername':
      return { claim: 'preferred_username', value: identity.preferredUsername, note: null, attribute: 'userName', localOnly: false };
    case 'SamlNameIdToScimUsername':
      return { claim: 'NameID', value: identity.subject, note: null, attribute: 'userName', localOnly: false };
    case 'SamlNameIdToScimExternalId':
      return { claim: 'NameID', value: identity.subject, note: null, attribute: 'externalId', localOnly: false };
    case 'SamlEmailToScimUsername':
      return { claim: 'email attribute', value: identity.email, note: null, attribute: 'userName', localOnly: false };
    case 'SamlAttributeToScimExternalId':
      return { claim: 'match attribute', value: identity.samlAttribute ?? null, note: null, attribute: 'externalId', localOnly: false };
  }
}

/** The value with its compared part in a <mark>. */
function marked(value: string, localOnly: boolean, ok: boolean): SafeHtml {
  const cls = ok ? 'match' : 'nomatch';
  if (!localOnly) return html`<mark class="${cls}">${value}</mark>`;
  const local = localPart(value);
  return html`<mark class="${cls}">${local}</mark>${value.slice(local.length)}`;
}

function outcome(decision: GuardDecision): SafeHtml {
  if (decision.admit) return html`<span class="badge ok">Admitted</span>`;
  const label = decision.reason === 'not_provisioned' ? 'Refused: not_provisioned (Inactive)' : `Refused: ${decision.reason}`;
  return html`<span class="badge bad">${label}</span>`;
}

function row(data: CompareData, s: StrategyComparison, subjectClaim: string, current: SsoMatchingStrategy | null): SafeHtml {
  const side = sides(s.strategy, data.identity, subjectClaim, data.policy);
  const anyMatch = s.matchedIds.length > 0;
  const ssoCell =
    side.value === null
      ? html`<span class="muted">no <code>${side.claim}</code> claim</span>`
      : html`<code>${side.claim}</code>: ${marked(side.value, side.localOnly, anyMatch)}${side.note ? html`<br><span class="muted">${side.note}</span>` : ''}`;
  const cells = data.candidates.map((c: Candidate) => {
    const ok = matches(s.strategy, data.identity, c, data.policy);
    const value = side.attribute === 'userName' ? c.userName : c.externalId;
    return html`<td><code>${side.attribute}</code>: ${value === null ? html`<span class="muted">none</span>` : marked(value, side.localOnly, ok)}
<br>${ok ? html`<span class="badge ok">matches</span>` : html`<span class="badge bad">no match</span>`}</td>`;
  });
  return html`<tr><th scope="row"><code>${s.strategy}</code>${s.strategy === current ? html` <span class="badge ok">current</span>` : ''}</th>
<td>${ssoCell}</td>${cells}<td>${outcome(s.decision)}</td></tr>`;
}

const claimValue = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

const emailOf = (e: unknown): string =>
  e && typeof e === 'object' && typeof (e as { value?: unknown }).value === 'string' ? (e as { value: string }).value : '';

function candidateDetails(c: Candidate): SafeHtml {
  const emails = Array.isArray(c.resource.emails) ? (c.resource.emails as unknown[]).filter((e) => emailOf(e) !== '') : [];
  const gone = c.goneSinceFound ? html` <span class="badge bad">deleted since found</span>` : '';
  return html`<table><caption>SCIM user <code>${c.userName}</code>${gone}</caption><tbody>
<tr><th scope="row">id</th><td><code>${c.id}</code></td></tr>
<tr><th scope="row">userName</th><td>${c.userName}</td></tr>
<tr><th scope="row">externalId</th><td>${c.externalId ?? '—'}</td></tr>
<tr><th scope="row">emails</th><td>${inlineNames(firstNames(emails, emailOf), 'email')}</td></tr>
<tr><th scope="row">displayName</th><td>${typeof c.resource.displayName === 'string' ? c.resource.displayName : '—'}</td></tr>
<tr><th scope="row">active</th><td>${c.active ? html`<span class="badge ok">Active</span>` : html`<span class="badge bad">Inactive</span>`}</td></tr>
<tr><th scope="row">groups</th><td>${c.groups ? inlineNames(c.groups, 'group') : html`<span class="muted">not read</span>`}</td></tr>
</tbody></table>`;
}

/** The SCIM users the lookups found beyond those shown (CANDIDATES_SHOWN, compare-data.ts). */
const moreCandidates = (data: CompareData): SafeHtml =>
  data.moreCandidates > 0
    ? html`<p class="more-candidates">${moreNote(data.moreCandidates, 'SCIM user')} <span class="muted">found by these lookups, not shown: each outcome counts them all.</span></p>`
    : html``;

export function comparePage(ctx: PageContext, data: CompareData): string {
  const subjectClaim = data.client?.subjectClaim ?? 'sub';
  const current = currentStrategyOf(data);
  const u = data.ssoUser;
  const customerHref = `${ctx.base}/customers/${enc(data.customerId)}`;
  const who = u.email ?? u.preferredUsername ?? u.subject;
  // The claims not already shown as the rows above.
  const shown = new Set(['email', 'email_verified', 'preferred_username', 'name', subjectClaim]);
  const claims = Object.entries(u.claims).filter(([k]) => !shown.has(k));
  const body = html`<h1>Compare <code>${who}</code></h1>
<p>The SSO user's claims side by side with the SCIM users a strategy could match. In each row the two compared values are highlighted: <mark class="match">green</mark> when they match, <mark class="nomatch">red</mark> when not.</p>
<section aria-labelledby="side-heading"><h2 id="side-heading">Side by side</h2>
${data.candidates.length ? '' : html`<p id="no-candidates">No SCIM user matches this SSO user under any strategy, and none lists its email.</p>`}
<table id="comparison"><thead><tr><th scope="col">Strategy</th><th scope="col">SSO user</th>${data.candidates.map(
    (c) => html`<th scope="col">SCIM user <code>${c.userName}</code></th>`,
  )}<th scope="col">Login outcome</th></tr></thead>
<tbody>${data.strategies.map((s) => row(data, s, subjectClaim, current))}</tbody></table>
${moreCandidates(data)}
<p><a href="${customerHref}/matching">Back to SCIM Matching</a></p></section>
<section aria-labelledby="sso-heading"><h2 id="sso-heading">SSO user</h2>
<table id="sso-claims"><caption>Last login ${time(u.lastSeenAt)}, first ${time(u.firstSeenAt)}</caption><tbody>
<tr><th scope="row">subject (<code>${subjectClaim}</code>)</th><td><code>${u.subject}</code></td></tr>
<tr><th scope="row">email</th><td>${u.email ?? '—'}</td></tr>
<tr><th scope="row">email_verified</th><td>${u.emailVerified === null ? '—' : String(u.emailVerified)}</td></tr>
<tr><th scope="row">preferred_username</th><td>${u.preferredUsername ?? '—'}</td></tr>
<tr><th scope="row">name</th><td>${u.name ?? '—'}</td></tr>
${claims.map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td>${claimValue(v)}</td></tr>`)}
</tbody></table></section>
<section aria-labelledby="candidates-heading"><h2 id="candidates-heading">Candidate SCIM users</h2>
${data.candidates.length ? data.candidates.map(candidateDetails) : html`<p>None.</p>`}${moreCandidates(data)}</section>`;
  return layout(ctx, {
    title: `Compare ${who}`,
    crumbs: [
      { label: 'Customers', href: `${ctx.base}/` },
      { label: data.customerId, href: customerHref },
      { label: 'SCIM Matching', href: `${customerHref}/matching` },
      { label: 'Compare' },
    ],
    body,
  });
}
