/** A group read as a response shows it: its members, if asked, all of one version of the group. */
import { scimErrors } from '../errors.js';
import type { StoredResource } from '../store/store.js';
import { readMemberItems, RENDER_PAGE, wantsMembers, type MemberItems } from './group-members.js';
import { expectedWeight, MEMBER_READ_BYTES } from './heavy-work.js';
import type { Projection } from './projection.js';
import type { ResourceContext } from './resources.js';

/** Members of a group read's first page while the connection's heavy slots are all taken (a few KB at most). */
const CROWDED_FIRST_MEMBERS = 16;

/**
 * A group as a response shows it: read without members (O(1)) when the projection leaves them out, else
 * with its members read page by page (src/scim/group-members.ts), all of the group's version. A group that
 * changed while it was read is read again under its write lease (Store.leaseGroup), which holds its
 * writers back for the read: re-read while one-member PATCHes kept changing it, a 100,000-member group took
 * 13-19 s to read (up to 25 reads). `afterWrite`: the request wrote already, so its heavy-request slot is
 * taken if free but never refused for (src/scim/heavy-work.ts).
 */
export async function readGroup(
  ctx: ResourceContext,
  id: string,
  projection: Projection,
  baseUrl: string,
  afterWrite = false,
): Promise<{ stored: StoredResource; members?: MemberItems }> {
  const first = await readGroupOnce(ctx, id, projection, baseUrl, 1, afterWrite);
  if (first.consistent) return first.read;
  const lease = await ctx.store.leaseGroup(ctx.connectionId, id);
  try {
    return (await readGroupOnce(ctx, id, projection, baseUrl, 5, afterWrite)).read;
  } finally {
    await lease?.release();
  }
}

/** readGroup's read, its member pages restarted `attempts` times at most; `consistent`: all of one version. */
async function readGroupOnce(ctx: ResourceContext, id: string, projection: Projection, baseUrl: string, attempts: number, afterWrite: boolean) {
  const stored = await ctx.store.getResource(ctx.connectionId, 'Group', id, { members: false });
  if (!stored) throw scimErrors.notFound(`Group ${id} not found`);
  if (!wantsMembers(projection)) return { consistent: true, read: { stored } };
  const refusable = !afterWrite;
  ctx.heavy.charge((stored.memberCount ?? 0) * MEMBER_READ_BYTES, refusable);
  // Each page weighs what its members hold beyond the MEMBER_READ_BYTES each charged above.
  const weigh = (weight: number, read: number, total: number, first: boolean) => {
    if (first && refusable) ctx.heavy.expect(expectedWeight(weight, read, total));
    ctx.heavy.charge(weight - read * MEMBER_READ_BYTES, refusable);
  };
  // While the connection's heavy slots are all taken, the first page is a few members: what they weigh tells
  // whether the whole list is heavy, and a refused read has read no more (as a scan's first page, list.ts).
  const firstPage = ctx.heavy.isCrowded() ? CROWDED_FIRST_MEMBERS : RENDER_PAGE;
  const members = await readMemberItems(ctx.store, ctx.connectionId, id, baseUrl, projection, attempts, weigh, firstPage);
  if (!members) throw scimErrors.notFound(`Group ${id} not found`);
  if (members.version === stored.version) return { consistent: true, read: { stored, members: members.items } };
  // Changed in between: answer with the older version (no later If-None-Match matches it).
  return { consistent: false, read: { stored: { ...stored, version: Math.min(stored.version, members.version) }, members: members.items } };
}
