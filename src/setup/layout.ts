/**
 * The page shell of the setup portal: the dashboard's stylesheet (src/dashboard/layout.ts), landmarks, a
 * skip link, the portal's navigation (only the areas the link allows), and the copy buttons' script. Copy
 * buttons are a convenience: they are `hidden` until the script (run with the response's CSP nonce) shows
 * them; without JavaScript every value is still selectable text.
 */
import type { SetupArea } from '../store/setup-grants.js';
import { html, raw, type SafeHtml } from '../dashboard/html.js';
import { PAGE_STYLE } from '../dashboard/layout.js';

export interface PortalContext {
  /** The customer's portal path (`/setup/acme`), for links and form actions. */
  base: string;
  nonce: string;
  csrfToken: string;
  customerId: string;
  appName: string;
  allow: SetupArea[];
}

export type PortalPage = 'overview' | 'scim' | 'sso' | 'test' | 'activity';

const EXTRA_STYLE = `
nav.portal ul{list-style:none;display:flex;gap:1rem;padding:0;margin:.6rem 0 0;flex-wrap:wrap}
nav.portal a{color:#fff}nav.portal a[aria-current=page]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
ol.steps>li{margin:.6rem 0}ul.pager{list-style:none;padding:0}dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem .8rem;margin:.4rem 0}
dl.fields dt{font-weight:600}dl.fields dd{margin:0}
input[type=text],input[type=url],input[type=password],select{font:inherit;padding:.35rem .5rem;border:1px solid #345;border-radius:.3rem;width:100%;max-width:40rem}
.field{margin:.7rem 0}.field label{display:block}.help{color:var(--muted);font-size:.9em;margin:.2rem 0}
button.copy{margin-left:.5rem;padding:.1rem .5rem;font-size:.85em}
.error{background:var(--bad-bg);border:1px solid var(--bad);color:var(--bad);padding:.5rem .8rem;border-radius:.3rem}
`;

const COPY_SCRIPT = `
for (const button of document.querySelectorAll('button.copy')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const target = document.getElementById(button.dataset.copy);
    if (!target) return;
    const said = document.getElementById('copy-status');
    try { await navigator.clipboard.writeText(target.textContent.trim()); button.textContent = 'Copied'; if (said) said.textContent = 'Copied.'; }
    catch { const range = document.createRange(); range.selectNodeContents(target); getSelection().removeAllRanges(); getSelection().addRange(range); button.textContent = 'Selected: press Ctrl+C'; if (said) said.textContent = 'Selected: press Ctrl+C to copy.'; }
  });
}`;

/** A value to copy: selectable code with a (script-shown) copy button. `id` must be unique on the page. */
export const copyable = (id: string, value: string, label: string): SafeHtml =>
  html`<code id="${id}">${value}</code><button type="button" class="copy" data-copy="${id}" aria-label="Copy ${label}" hidden>Copy</button>`;

export function portalLayout(ctx: PortalContext, page: PortalPage, title: string, body: SafeHtml): string {
  const items: { page: PortalPage; label: string; href: string; area?: SetupArea }[] = [
    { page: 'overview', label: 'Overview', href: `${ctx.base}/` },
    { page: 'scim', label: 'SCIM provisioning', href: `${ctx.base}/scim`, area: 'scim' },
    { page: 'sso', label: 'Single sign-on', href: `${ctx.base}/sso`, area: 'sso' },
    { page: 'test', label: 'Test SSO', href: `${ctx.base}/test`, area: 'sso' },
    { page: 'activity', label: 'Activity', href: `${ctx.base}/activity` },
  ];
  const nav = items
    .filter((i) => !i.area || ctx.allow.includes(i.area))
    .map((i) => html`<li><a href="${i.href}"${i.page === page ? raw(' aria-current="page"') : ''}>${i.label}</a></li>`);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Set up ${ctx.appName}</title>
<style nonce="${ctx.nonce}">${raw(PAGE_STYLE)}${raw(EXTRA_STYLE)}</style>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><span>Set up ${ctx.appName} for <strong>${ctx.customerId}</strong></span>
<nav class="portal" aria-label="Setup"><ul>${nav}</ul></nav></header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
<form method="post" action="${ctx.base}/logout"><input type="hidden" name="_csrf" value="${ctx.csrfToken}"><p><button type="submit">End this setup session</button></p></form>
</main>
<p class="visually-hidden" id="copy-status" aria-live="polite"></p>
<script nonce="${ctx.nonce}">${raw(COPY_SCRIPT)}</script>
</body></html>`.value;
}

/** A page outside a session (refused links, errors): heading and message only. */
export function portalMessage(nonce: string, title: string, message: SafeHtml | string): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Setup</title>
<style nonce="${nonce}">${raw(PAGE_STYLE)}${raw(EXTRA_STYLE)}</style>
</head><body><main id="main"><h1>${title}</h1><p role="alert">${message}</p></main></body></html>`.value;
}

/** The hidden CSRF field of a form. */
export const csrfInput = (ctx: PortalContext) => html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
