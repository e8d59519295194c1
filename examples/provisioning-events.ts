/**
 * README "Provisioning events": pulling and consuming the durable event log. The README shows the regions
 * below; the rest makes it a file the typecheck compiles (test/docs/snippets.test.ts).
 */
import { EventsExpiredError, memoryStore, type ProvisioningEvent } from 'scim-sso';
import { scimSso } from 'scim-sso/express';

const sso = scimSso({ store: memoryStore() });
const crm = { apply: async (event: ProvisioningEvent) => void event, resync: async (customerId: string) => void customerId };
let saved: string | undefined;

// #region read
try {
  const { events, next } = await sso.events.read('acme', { after: saved, limit: 500 });
  for (const event of events) await crm.apply(event); // event.type, resourceId, resource, changed, member
  saved = next ?? undefined; // keep it: the next read goes on from here
} catch (error) {
  if (!(error instanceof EventsExpiredError)) throw error;
  saved = (await sso.events.end('acme')) ?? undefined; // behind the retention: resync, then go on from here
  await crm.resync('acme');
}
// #endregion read
export { saved };

// #region consume
const consumer = sso.events.consume({
  group: 'crm-sync', // every group gets every event; the instances of a group share the work
  handler: (event) => crm.apply(event), // at least once, in order per customer; a throw is retried, then parked
  onExpired: ({ customerId }) => crm.resync(customerId),
});
const parked = await sso.events.deadLetters('crm-sync'); // [{ id, group, event, error, attempts, failedAt, resourceLeftOut? }]
for (const letter of parked) await sso.events.replayDeadLetter('crm-sync', letter.id, (event) => crm.apply(event));
await consumer.stop(); // on shutdown: waits for the running handlers
// #endregion consume
