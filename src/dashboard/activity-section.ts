/**
 * A customer's activity log as HTML (docs/activity.md): the status line "last request from your IdP: 2 min
 * ago, 200", the recent SCIM requests and the refused logins with their fix hints. Shared by the admin
 * dashboard's customer page and the customer's setup portal, so both show the same thing.
 */
import type { CustomerActivity, ScimRequestEntry } from '../activity/activity-api.js';
import { html, type SafeHtml } from './html.js';
import { time } from './layout.js';

/** "just now", "2 min ago", "3 h ago", "5 days ago": how long before `now` the ISO time `at` was. */
export function ago(at: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} days ago`;
}

const ok = (status: number) => status < 400;

/** The one-line status of the customer's SCIM traffic. */
export function lastRequestLine(last: ScimRequestEntry | null, now: number): SafeHtml {
  if (!last) return html`<p class="status" role="status">No SCIM request from your IdP yet.</p>`;
  return html`<p class="status" role="status">Last request from your IdP: <strong>${ago(last.at, now)}</strong>, ${last.method} <code>${last.path}</code> →
<span class="badge ${ok(last.status) ? 'ok' : 'bad'}">${String(last.status)}</span></p>`;
}

/** The whole activity section; `id` is the section's anchor. */
/** Which parts of the log a viewer may see (a setup link scoped to SSO sees no SCIM requests, and the reverse). */
export interface ActivityParts {
  scimRequests: boolean;
  refusedLogins: boolean;
}

export function activitySection(
  activity: CustomerActivity,
  now: number,
  id = 'activity',
  parts: ActivityParts = { scimRequests: true, refusedLogins: true },
): SafeHtml {
  const requests = activity.requests.map(
    (r) => html`<tr><td>${time(r.at)}</td><td>${r.method}</td><td><code>${r.path}</code></td>
<td><span class="badge ${ok(r.status) ? 'ok' : 'bad'}">${String(r.status)}</span></td><td>${r.scimType ?? ''}</td><td>${r.latencyMs.toFixed(1)} ms</td></tr>`,
  );
  const logins = activity.refusedLogins.map(
    (
      l,
    ) => html`<tr><td>${time(l.at)}</td><th scope="row">${l.email ?? l.subject ?? 'unknown'}</th><td>${l.outcome === 'refused' ? 'Refused' : 'Failed'}: ${l.reason}</td>
<td>${l.strategy ? html`<code>${l.strategy}</code>` : ''}</td><td>${l.hint}</td></tr>`,
  );
  const scim = html`${lastRequestLine(activity.lastRequest, now)}
<h3>Recent SCIM requests</h3>
<p class="muted">Time, method, path, status, SCIM error type and latency of each request; no bodies, no tokens, no query strings.</p>
${requests.length ? html`<table><thead><tr><th scope="col">Time</th><th scope="col">Method</th><th scope="col">Path</th><th scope="col">Status</th><th scope="col">scimType</th><th scope="col">Latency</th></tr></thead><tbody>${requests}</tbody></table>` : html`<p>None yet.</p>`}`;
  const refused = html`<h3>Refused logins</h3>
${logins.length ? html`<table><thead><tr><th scope="col">Time</th><th scope="col">Person</th><th scope="col">Outcome</th><th scope="col">Strategy</th><th scope="col">How to fix</th></tr></thead><tbody>${logins}</tbody></table>` : html`<p>None.</p>`}`;
  return html`<section id="${id}" aria-labelledby="${id}-heading"><h2 id="${id}-heading">Activity</h2>
${parts.scimRequests ? scim : ''}
${parts.refusedLogins ? refused : ''}
</section>`;
}
