/**
 * The Activity page: the customer's activity log (docs/activity.md) as the admin dashboard shows it
 * (src/dashboard/activity-section.ts): recent SCIM requests (time, method, path, status, scimType, latency;
 * never bodies or tokens) and refused logins with a fix hint.
 */
import type { CustomerActivity } from '../activity/activity-api.js';
import { activitySection } from '../dashboard/activity-section.js';
import { html } from '../dashboard/html.js';
import { portalLayout, type PortalContext } from './layout.js';

/** `activity` null: the instance keeps no activity log (the scimSso option `activityLog: false`). */
export function activityPage(ctx: PortalContext, activity: CustomerActivity | null): string {
  const body = activity ? activitySection(activity, Date.now()) : html`<p class="muted" id="activity-off">This server keeps no activity log.</p>`;
  return portalLayout(ctx, 'activity', 'Activity', body);
}
