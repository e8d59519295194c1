/**
 * The Activity page: the connection's recent SCIM requests (time, method, path, status, scimType, latency;
 * never bodies or tokens) and recent refused logins with a fix hint (src/setup/hints.ts).
 */
import { html } from '../dashboard/html.js';
import { time } from '../dashboard/layout.js';
import type { MatchingStrategy } from '../match/strategies.js';
import type { ActivityView } from './activity-source.js';
import { refusalHint } from './hints.js';
import type { SetupIdp } from './idp-steps.js';
import { portalLayout, type PortalContext } from './layout.js';
import { statusLine } from './scim-page.js';

export function activityPage(ctx: PortalContext, activity: ActivityView, idp: SetupIdp, strategy: MatchingStrategy | null): string {
  const requests =
    activity.requests === null
      ? html`<p class="muted">This server keeps no log of SCIM requests.</p>`
      : activity.requests.length === 0
        ? html`<p id="requests-empty">No SCIM request yet.</p>`
        : html`<table id="requests"><caption class="visually-hidden">Recent SCIM requests, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">scimType</th><th scope="col">Latency</th></tr></thead>
<tbody>${activity.requests.map(
            (r) =>
              html`<tr><td>${time(r.at)}</td><td><code>${r.method} ${r.path}</code></td><td><span class="badge ${r.status < 400 ? 'ok' : 'bad'}">${r.status}</span></td><td>${r.scimType ?? ''}</td><td>${r.latencyMs === null ? '' : `${r.latencyMs} ms`}</td></tr>`,
          )}</tbody></table>`;
  const refused =
    activity.refusedLogins.length === 0
      ? html`<p id="refused-empty">No refused login.</p>`
      : html`<table id="refused"><caption class="visually-hidden">Recent refused logins, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Reason</th><th scope="col">How to fix it</th></tr></thead>
<tbody>${activity.refusedLogins.map(
          (r) => html`<tr><td>${time(r.at)}</td><td>${r.who}</td><td>${r.reason}</td><td>${r.hint ?? refusalHint(r.reason, idp, strategy)}</td></tr>`,
        )}</tbody></table>`;
  const body = html`${statusLine(activity.requests === null ? undefined : (activity.requests[0] ?? null))}
<section aria-labelledby="req"><h2 id="req">Recent SCIM requests</h2>${requests}</section>
<section aria-labelledby="ref"><h2 id="ref">Recent refused logins</h2>${refused}</section>`;
  return portalLayout(ctx, 'activity', 'Activity', body);
}
