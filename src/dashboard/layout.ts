/**
 * The page shell every dashboard page shares: landmarks (banner, navigation, main), a skip link,
 * breadcrumbs, the stylesheet, and the per-response CSP nonce for the inline style and script.
 */
import { html, raw, type SafeHtml } from './html.js';

/** What every page needs to know about the request it answers. */
export interface PageContext {
  /** The dashboard's mount path (`req.baseUrl`, e.g. `/admin`), for absolute links. */
  base: string;
  /** The CSRF token for this page's forms. */
  csrfToken: string;
  /** The CSP nonce of this response. */
  nonce: string;
}

export interface Crumb {
  label: string;
  href?: string;
}

export interface PageInput {
  title: string;
  crumbs: Crumb[];
  body: SafeHtml;
  /** Inline JavaScript (trusted constant), run with this response's nonce. */
  script?: SafeHtml;
}

export const PAGE_STYLE = `
:root{--fg:#1d2433;--muted:#5a6478;--line:#d5dae3;--accent:#1a5fb4;--ok:#1e6b34;--ok-bg:#e3f4e8;--bad:#9b1c1c;--bad-bg:#fde8e8;--warn-bg:#fff4d6}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;background:#f7f8fa}
header{background:#1d2433;color:#fff;padding:.6rem 1.5rem}
header a{color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
a{color:var(--accent)}
:focus-visible{outline:3px solid #f5a524;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:var(--fg);padding:.3rem .6rem;z-index:1}
nav.crumbs ol{list-style:none;display:flex;gap:.4rem;padding:0;margin:.8rem 0 0;flex-wrap:wrap}
nav.crumbs li+li::before{content:"›";margin-right:.4rem;color:var(--muted)}
section{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:.8rem 1.1rem;margin:1rem 0}
h1{font-size:1.6rem;margin:.6rem 0}h2{font-size:1.2rem;margin:.2rem 0 .6rem}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:#eef1f5}
caption{text-align:left;font-weight:600;padding:.3rem 0}
code{background:#eef1f5;padding:.05rem .3rem;border-radius:.2rem;overflow-wrap:break-word}
.badge{display:inline-block;padding:0 .45rem;border-radius:.8rem;font-size:.85em;border:1px solid currentColor}
.ok{color:var(--ok);background:var(--ok-bg)}.bad{color:var(--bad);background:var(--bad-bg)}.muted{color:var(--muted)}
.notice{background:var(--warn-bg);border:1px solid #e0c36a;padding:.5rem .8rem;border-radius:.3rem}
.status{background:var(--ok-bg);border:1px solid #9fd3ad;padding:.5rem .8rem;border-radius:.3rem}
.secret{font-size:1.1rem;display:block;padding:.5rem;margin:.4rem 0;user-select:all}
button,select{font:inherit;padding:.35rem .7rem;border:1px solid #345;border-radius:.3rem;background:#fff}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
label{font-weight:600;margin-right:.4rem}
mark{padding:0 .15rem;border-radius:.2rem}
mark.match{background:var(--ok-bg);color:var(--ok);outline:1px solid var(--ok)}
mark.nomatch{background:var(--bad-bg);color:var(--bad);outline:1px solid var(--bad)}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.3rem 0;border-bottom:1px solid var(--line)}
.pager{display:flex;gap:1rem;margin:.4rem 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

export function layout(ctx: PageContext, page: PageInput): string {
  const crumbs = page.crumbs.map((c, i) =>
    i === page.crumbs.length - 1 || !c.href ? html`<li><span aria-current="page">${c.label}</span></li>` : html`<li><a href="${c.href}">${c.label}</a></li>`,
  );
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${ctx.csrfToken}">
<title>${page.title} · scim-sso dashboard</title>
<style nonce="${ctx.nonce}">${raw(PAGE_STYLE)}</style>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><a href="${ctx.base}/">scim-sso dashboard</a>
<nav class="crumbs" aria-label="Breadcrumb"><ol>${crumbs}</ol></nav></header>
<main id="main" tabindex="-1">
${page.body}
</main>
${page.script ? html`<script nonce="${ctx.nonce}">${page.script}</script>` : ''}
</body></html>`.value;
}

/** A page with just a heading and a message (errors, refusals). */
export function messagePage(ctx: Pick<PageContext, 'base' | 'nonce'>, title: string, message: SafeHtml | string): string {
  return layout(
    { ...ctx, csrfToken: '' },
    { title, crumbs: [{ label: 'Customers', href: `${ctx.base}/` }, { label: title }], body: html`<h1>${title}</h1><p role="alert">${message}</p>` },
  );
}

/** A hidden CSRF field for a form. */
export const csrfField = (ctx: PageContext) => html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;

/** Short human text for an ISO timestamp (kept machine-readable in a <time> element). */
export const time = (iso: string) => html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
