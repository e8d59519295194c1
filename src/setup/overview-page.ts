/** The portal's first page: where the setup stands, and what to do next. */
import { html, type SafeHtml } from '../dashboard/html.js';
import { portalLayout, type PortalContext } from './layout.js';

export interface OverviewData {
  hasConnection: boolean;
  hasClient: boolean;
  issuer: string | null;
  expiresAt: number;
  /** The SCIM status line (scim-page.ts statusLine), when SCIM is allowed. */
  scimStatus: SafeHtml | null;
}

export function overviewPage(ctx: PortalContext, data: OverviewData): string {
  const items = [];
  if (ctx.allow.includes('scim')) {
    items.push(
      html`<li><a href="${ctx.base}/scim">SCIM provisioning</a>: ${data.hasConnection ? html`<span class="badge ok">connection created</span>` : html`<span class="badge bad">not set up</span>`} — your IdP creates, updates and deactivates the app's users.</li>`,
    );
  }
  if (ctx.allow.includes('sso')) {
    items.push(
      html`<li><a href="${ctx.base}/sso">Single sign-on</a>: ${data.hasClient ? html`<span class="badge ok">configured</span> <code>${data.issuer}</code>` : html`<span class="badge bad">not set up</span>`} — people log in through your IdP. Then <a href="${ctx.base}/test">Test SSO</a>.</li>`,
    );
  }
  const until = new Date(data.expiresAt).toISOString();
  const body = html`<p>This page lets you, the IT administrator of <strong>${ctx.customerId}</strong>, connect your identity provider to ${ctx.appName}. No account is needed: the link you opened is your access, until <time datetime="${until}">${until.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>.</p>
<ul class="plain" id="areas">${items}</ul>
${data.scimStatus ?? ''}`;
  return portalLayout(ctx, 'overview', 'Setup', body);
}
