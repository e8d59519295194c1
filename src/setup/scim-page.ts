/**
 * The SCIM provisioning page: the base URL, the token (revealed once, right after it is issued), the live
 * status line, and the steps for the chosen IdP with the mapping the customer's matching strategy needs.
 */
import { enc, html, type SafeHtml } from '../dashboard/html.js';
import type { MatchingStrategy } from '../match/strategies.js';
import type { ScimRequestEntry } from '../activity/activity-api.js';
import { lastRequestLine } from '../dashboard/activity-section.js';
import { IDP_NAMES, scimSteps, SETUP_IDPS, type SetupIdp } from './idp-steps.js';
import { copyable, csrfInput, portalLayout, type PortalContext } from './layout.js';

export interface ScimPageData {
  scimBaseUrl: string;
  hasConnection: boolean;
  /** When a rotation left the previous token valid: until when. */
  previousTokenExpiresAt: string | null;
  /** The token just issued (shown once), or null. */
  revealedToken: string | null;
  idp: SetupIdp;
  strategy: MatchingStrategy;
  /** The newest SCIM request, or null (none yet), or undefined (no request log on this instance). */
  lastRequest: ScimRequestEntry | null | undefined;
  graceHours: number;
}

/** "Last request from your IdP: 2 min ago, POST /Users → 201", or why there is none (the dashboard's line, src/dashboard/activity-section.ts). */
export function statusLine(last: ScimRequestEntry | null | undefined): SafeHtml {
  if (last === undefined) return html`<p class="muted" id="scim-status">The live status is not available on this server (no activity log).</p>`;
  return html`<div id="scim-status">${lastRequestLine(last, Date.now())}</div>`;
}

export function scimPage(ctx: PortalContext, data: ScimPageData): string {
  const steps = scimSteps({ idp: data.idp, scimBaseUrl: data.scimBaseUrl, strategy: data.strategy, appName: ctx.appName });
  const tabs = SETUP_IDPS.map((idp) =>
    idp === data.idp
      ? html`<li><strong aria-current="true">${IDP_NAMES[idp]}</strong></li>`
      : html`<li><a href="${ctx.base}/scim?idp=${enc(idp)}">${IDP_NAMES[idp]}</a></li>`,
  );
  const token = data.revealedToken
    ? html`<div class="notice" role="status"><p><strong>Your SCIM token.</strong> Copy it into your IdP now: it is shown only this once.</p>
<p>${copyable('scim-token', data.revealedToken, 'the SCIM token')}</p>
${data.previousTokenExpiresAt ? html`<p>The previous token keeps working until <time datetime="${data.previousTokenExpiresAt}">${data.previousTokenExpiresAt}</time>.</p>` : ''}</div>`
    : data.hasConnection
      ? html`<p>A token was issued before; it is never shown again. If you no longer have it, issue a new one${data.graceHours ? ` (the current one keeps working for ${data.graceHours} hour${data.graceHours === 1 ? '' : 's'}, so provisioning does not stop while you paste the new one)` : ''}.</p>
<form method="post" action="${ctx.base}/scim/token">${csrfInput(ctx)}<button type="submit">Issue a new SCIM token</button></form>`
      : html`<p>No SCIM connection yet.</p>
<form method="post" action="${ctx.base}/scim/token">${csrfInput(ctx)}<button type="submit">Create the SCIM connection and show its token</button></form>`;
  const body = html`<section aria-labelledby="conn"><h2 id="conn">Connection</h2>
${statusLine(data.lastRequest)}
<dl class="fields"><dt>SCIM base URL</dt><dd>${copyable('scim-base-url', data.scimBaseUrl, 'the SCIM base URL')}</dd></dl>
${token}</section>
<section aria-labelledby="steps"><h2 id="steps">Steps in your IdP</h2>
<nav aria-label="Identity provider"><ul class="pager">${tabs}</ul></nav>
<p>The app matches single sign-on logins to provisioned users with the strategy <code id="strategy">${data.strategy}</code>.</p>
<ol class="steps" id="idp-steps">${steps.map(
    (step, i) =>
      html`<li><strong>${step.title}</strong>${
        step.fields
          ? html`<dl class="fields">${step.fields.map(
              (f, j) => html`<dt>${f.label}</dt><dd>${f.copy ? copyable(`step-${i}-${j}`, f.value, f.label) : f.value}</dd>`,
            )}</dl>`
          : ''
      }${step.detail ? html`<p class="help">${step.detail}</p>` : ''}</li>`,
  )}</ol></section>`;
  return portalLayout(ctx, 'scim', 'SCIM provisioning', body);
}
