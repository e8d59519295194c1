/**
 * The SCIM Matching page (PropelAuth's "SCIM Matching" tool): a strategy selector whose change re-lists the
 * affected users at once (matching-script.ts, from the embedded model), the recommendation with its reason,
 * the warnings, every strategy's counts, and Save (a CSRF-protected POST that calls `updateOidcClient`).
 */
import type { SsoMatchingStrategy } from '../match/strategies.js';
import { enc, html, jsonForScript, type SafeHtml } from './html.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { initialStrategy, summaryText, type ListedUser, type MatchingModel, type StrategyModel } from './matching-model.js';
import { MATCHING_SCRIPT } from './matching-script.js';

function userList(model: MatchingModel, id: string, users: ListedUser[], total: number): SafeHtml {
  return html`<ul id="${id}" class="plain">${users.map(
    (u) =>
      html`<li><a href="${model.compareUrl + enc(u.subject)}">${u.label}</a> <span class="muted">sub ${u.subject}${u.name ? ` · ${u.name}` : ''}</span></li>`,
  )}</ul>${total > users.length ? html`<p class="muted">and ${total - users.length} more</p>` : ''}`;
}

/** The inside of the live region; matching-script.ts builds the same nodes on change. */
function affectedRegion(model: MatchingModel, s: StrategyModel): SafeHtml {
  return html`<h2 id="affected-heading">Affected users</h2>
<p id="affected-summary">${summaryText(s)}</p>
${s.affected === 0 ? html`<p id="affected-empty">No affected users: under ${s.strategy}, no SSO user would be refused as deactivated or never provisioned.</p>` : ''}
${userList(model, 'affected-list', s.affectedUsers, s.affected)}
${s.ambiguous ? html`<h3>Ambiguous: they match several SCIM users</h3>${userList(model, 'ambiguous-list', s.ambiguousUsers, s.ambiguous)}` : ''}`;
}

function optionLabel(model: MatchingModel, s: StrategyModel): string {
  const tags = [s.strategy === model.currentStrategy ? 'current' : '', s.strategy === model.recommendedStrategy ? 'recommended' : ''].filter(Boolean);
  return `${s.strategy} — ${s.affected} affected${tags.length ? ` (${tags.join(', ')})` : ''}`;
}

function overview(model: MatchingModel): SafeHtml {
  return html`<section aria-labelledby="overview-heading"><h2 id="overview-heading">Every strategy on the recorded logins</h2>
<table><caption>${model.totals.ssoUsers} SSO users and ${model.totals.scimUsers} SCIM users</caption>
<thead><tr><th scope="col">Strategy</th><th scope="col">Admitted</th><th scope="col">Deactivated or deleted in SCIM</th><th scope="col">Affected (Inactive)</th><th scope="col">Ambiguous</th><th scope="col">SCIM users nobody matched</th></tr></thead>
<tbody>${model.strategies.map(
    (
      s,
    ) => html`<tr><th scope="row"><code>${s.strategy}</code>${s.strategy === model.currentStrategy ? html` <span class="badge ok">current</span>` : ''}${s.strategy === model.recommendedStrategy ? html` <span class="badge ok">recommended</span>` : ''}</th>
<td>${s.admitted}</td><td>${s.inactive}</td><td>${s.affected}</td><td>${s.ambiguous}</td><td>${s.unmatchedScimUsers}</td></tr>`,
  )}</tbody></table></section>`;
}

export function matchingPage(ctx: PageContext, model: MatchingModel, options: { requested: unknown; saved: boolean }): string {
  const selected: SsoMatchingStrategy = initialStrategy(model, options.requested);
  // The report lists the strategies of the customer's protocol, in their documented order.
  const strategies = model.strategies;
  const shown = strategies.find((s) => s.strategy === selected)!;
  const customerHref = `${ctx.base}/customers/${enc(model.customerId)}`;
  const body = html`<h1>SCIM Matching — <code>${model.customerId}</code></h1>
<p>How an SSO login is matched to the customer's SCIM users. Choose strategies until nobody is listed as affected, then Save.</p>
${options.saved && model.currentStrategy ? html`<p class="status" role="status" id="saved">Saved. Logins now use <code>${model.currentStrategy}</code>.</p>` : ''}
<section aria-labelledby="recommendation-heading"><h2 id="recommendation-heading">Recommendation</h2>
${model.recommendedStrategy ? html`<p id="recommended">Recommended: <code>${model.recommendedStrategy}</code></p>` : html`<p id="recommended">No recommendation yet.</p>`}
<p id="reason">${model.reason}</p>
${model.warnings.length ? html`<h3 id="warnings-heading">Warnings</h3><ul aria-labelledby="warnings-heading" id="warnings">${model.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
</section>
<section aria-labelledby="strategy-heading"><h2 id="strategy-heading">Matching strategy</h2>
<p>Current: <code id="current-strategy">${model.currentStrategy ?? 'none'}</code></p>
<form method="post" action="${customerHref}/matching">${csrfField(ctx)}
<label for="strategy">Strategy</label>
<select id="strategy" name="strategy" aria-describedby="strategy-help">${strategies.map(
    (s) => html`<option value="${s.strategy}"${s.strategy === selected ? html` selected` : ''}>${optionLabel(model, s)}</option>`,
  )}</select>
<button type="submit" id="save">Save</button>
<p id="strategy-help" class="muted">Changing the selection only previews it; Save applies it from the next login.</p>
</form></section>
<section id="affected" aria-live="polite" aria-labelledby="affected-heading" data-strategy="${shown.strategy}">${affectedRegion(model, shown)}</section>
${overview(model)}
<script type="application/json" id="matching-data">${jsonForScript(model)}</script>`;
  return layout(ctx, {
    title: `SCIM Matching — ${model.customerId}`,
    crumbs: [{ label: 'Customers', href: `${ctx.base}/` }, { label: model.customerId, href: customerHref }, { label: 'SCIM Matching' }],
    body,
    script: MATCHING_SCRIPT,
  });
}
