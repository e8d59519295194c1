/**
 * The example app's activity feed: an event consumer (`sso.events.consume`, consumer group
 * `example-activity`) that keeps the last events of every customer in memory, and the page that shows one
 * customer's. A real app would write them to its own database; the consumer delivers each event at least
 * once, in order per customer, across every instance of the app.
 */
import type { ProvisioningEvent, ScimSsoCore } from '../src/index.js';

const KEPT = 50;

export interface ActivityFeed {
  /** The customer's last events, newest first. */
  of(customerId: string): ProvisioningEvent[];
  stop(): Promise<void>;
}

export function startActivityFeed(sso: Pick<ScimSsoCore, 'events'>): ActivityFeed {
  const recent = new Map<string, ProvisioningEvent[]>();
  const seen = new Set<string>(); // at least once: a redelivered event is shown once
  const consumer = sso.events.consume({
    group: 'example-activity',
    handler: (event) => {
      const key = `${event.customerId} ${event.cursor}`;
      if (seen.has(key)) return;
      seen.add(key);
      const list = recent.get(event.customerId) ?? [];
      list.unshift(event);
      for (const dropped of list.splice(KEPT)) seen.delete(`${dropped.customerId} ${dropped.cursor}`);
      recent.set(event.customerId, list);
    },
  });
  return { of: (customerId) => recent.get(customerId) ?? [], stop: () => consumer.stop() };
}
