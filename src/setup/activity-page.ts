/**
 * The Activity page: the customer's activity log (docs/activity.md) as the admin dashboard shows it
 * (src/dashboard/activity-section.ts): recent SCIM requests (time, method, path, status, scimType, latency;
 * never bodies or tokens) when the link allows `scim`, and refused logins with a fix hint when it allows `sso`.
 */
import type { CustomerActivity } from '../activity/activity-api.js';
import { activitySection } from '../dashboard/activity-section.js';
import { html } from '../dashboard/html.js';
import { portalLayout, type PortalContext } from './layout.js';

/** `activity` null: the instance keeps no activity log (the scimSso option `activityLog: false`). */
export function activityPage(ctx: PortalContext, activity: CustomerActivity | null): string {
  // A link shows only the log of what it allows: SCIM requests with `scim`, refused logins with `sso`.
  const parts = { scimRequests: ctx.allow.includes('scim'), refusedLogins: ctx.allow.includes('sso') };
  const body = activity
    ? activitySection(activity, Date.now(), 'activity', parts)
    : html`<p class="muted" id="activity-off">This server keeps no activity log.</p>`;
  return portalLayout(ctx, 'activity', 'Activity', body);
}
