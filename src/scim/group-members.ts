/**
 * Group members at scale (docs/groups.md): which requests need a group's member list at all, PATCH member
 * operations turned into member changes for the store (O(k) for k members named, whatever the group's size),
 * and member lists rendered from pages with a yield between pages.
 */
import { randomUUID } from 'node:crypto';
import { getAttrOf, keyOf } from './attribute-access.js';
import { yieldToEventLoop } from '../event-loop.js';
import { membershipsWeight } from './heavy-work.js';
import { memberViews, renderResource } from './render.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import type { PatchOperation } from './patch.js';
import { applyProjection, isIdentity, type Projection } from './projection.js';
import type { ResourceSpec } from './resource-spec.js';
import type { Store, StoredMember, StoredResource } from '../store/store.js';

const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:group';

/** Whether a response shaped by `projection` shows group members (else the group is read without them). */
export function wantsMembers(projection: Projection): boolean {
  return shows(projection, 'members');
}

/** Whether a response shaped by `projection` shows the top-level attribute `name` (lower-case). */
export function shows(projection: Projection, name: string): boolean {
  const isName = (p: { container: string | null; attribute: string }) => p.container === null && p.attribute.toLowerCase() === name;
  if (projection.include !== null) return projection.include.some(isName);
  return !projection.exclude.some((p) => isName(p) && p.subAttribute === undefined);
}

/**
 * What a group PATCH does to members, planned without reading them:
 * - `changes`: remove these values, then add these member objects (as sent; validated by the caller);
 * - `list`: the member list is replaced by this one (a `replace` of `members`, or `remove` of all of them),
 *   with the operations after it applied;
 * - neither: the PATCH does not touch members.
 * `rest` holds the operations on other attributes, in order.
 */
export interface GroupPatchPlan {
  rest: PatchOperation[];
  changes: { remove: Set<string>; add: Map<string, JsonObject> } | null;
  list: Map<string, JsonObject> | null;
}

/** `members` alone or URN-qualified (`urn:…:core:2.0:Group:members`), case-insensitively. */
function isMembersPath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower === 'members' || lower === `${GROUP_URN}:members`;
}

const VALUE_FILTER = /^(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members\s*\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i;

/** The value of `members[value eq "x"]`, or null for any other path. */
function filteredValue(path: string): string | null {
  const match = VALUE_FILTER.exec(path);
  if (!match) return null;
  try {
    const value = JSON.parse(`"${match[1]}"`) as unknown;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** Member objects of a value: an array of objects with a string `value`, or one such object; else null. */
function memberObjects(value: Json | undefined): JsonObject[] | null {
  const list = Array.isArray(value) ? value : value === undefined ? null : [value];
  if (list === null) return null;
  const out: JsonObject[] = [];
  for (const item of list) {
    if (!isObject(item) || typeof getAttrOf(item, 'value') !== 'string') return null;
    out.push(item);
  }
  return out;
}

/**
 * Plans a group PATCH, or answers null when some operation needs the member list itself (a filter other
 * than `value eq`, a sub-attribute of members, a malformed member value: the general path handles those,
 * with its own errors). Recognised: `add` of members (with the path, or path-less `{"members": [...]}`);
 * `remove` of `members[value eq "x"]`; `remove` of `members` with a value list (Entra) or without a value
 * (all members); `replace` of `members` (Okta), with the path or path-less.
 */
export function planGroupPatch(operations: PatchOperation[]): GroupPatchPlan | null {
  const plan: GroupPatchPlan = { rest: [], changes: null, list: null };
  const add = (member: JsonObject) => {
    const value = getAttrOf(member, 'value') as string;
    if (plan.list) {
      if (!plan.list.has(value)) plan.list.set(value, member);
      return;
    }
    plan.changes ??= { remove: new Set(), add: new Map() };
    if (!plan.changes.add.has(value)) plan.changes.add.set(value, member);
  };
  const remove = (value: string) => {
    if (plan.list) {
      plan.list.delete(value);
      return;
    }
    plan.changes ??= { remove: new Set(), add: new Map() };
    plan.changes.add.delete(value);
    plan.changes.remove.add(value);
  };
  const replace = (members: JsonObject[]) => {
    plan.changes = null;
    plan.list = new Map();
    for (const m of members) add(m);
  };

  for (const operation of operations) {
    const { op, path, value } = operation;
    if (path === undefined) {
      // Path-less add/replace: the `members` key (if any) is taken out, the rest stays an operation.
      if (!isObject(value)) return null;
      // `members` and `Members` side by side: the general path applies both, in order.
      if (Object.keys(value).filter((k) => k.toLowerCase() === 'members').length > 1) return null;
      if (Object.keys(value).some((k) => k.toLowerCase().startsWith('urn:') && k.toLowerCase().startsWith(GROUP_URN))) return null;
      const key = keyOf(value, 'members');
      if (key === undefined) {
        plan.rest.push(operation);
        continue;
      }
      const members = memberObjects(value[key]);
      if (members === null) return null;
      if (op === 'add') members.forEach(add);
      else replace(members);
      const { [key]: _members, ...others } = value;
      if (Object.keys(others).length > 0) plan.rest.push({ ...operation, value: others });
      continue;
    }
    if (isMembersPath(path)) {
      if (op === 'remove' && value === undefined) {
        replace([]);
        continue;
      }
      const members = memberObjects(value);
      if (members === null) return null;
      if (op === 'add') members.forEach(add);
      else if (op === 'replace') replace(members);
      else members.forEach((m) => remove(getAttrOf(m, 'value') as string));
      continue;
    }
    const filtered = filteredValue(path);
    if (filtered !== null) {
      if (op !== 'remove') return null; // replace/add at a filtered member needs that member
      remove(filtered);
      continue;
    }
    if (/^(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members\b/i.test(path)) return null;
    plan.rest.push(operation);
  }
  return plan;
}

/** Members per page when rendering a member list (one store call each, a yield between them). */
export const RENDER_PAGE = 1000;

/**
 * What one page of members read from the store may weigh (membershipWeight): 1,000 IdP members are about
 * 100 KB, but 1,000 members whose value, display and type are at their 1,024-character limit are 4 MB, whose
 * rendering held the event loop 21-58 ms in one turn (a hostile-tenant probe, 2026-12-07). The next page asks
 * for as many members as this holds at the last page's weight.
 */
const RENDER_PAGE_BYTES = 512 * 1024;

/** Members to read next, after a page of `count` members that weighed `bytes`: at most RENDER_PAGE, at least 1. */
function nextMemberPage(count: number, bytes: number): number {
  if (count === 0 || bytes <= 0) return RENDER_PAGE;
  return Math.max(1, Math.min(RENDER_PAGE, Math.floor((count * RENDER_PAGE_BYTES) / bytes)));
}

/**
 * A member list rendered as JSON array items: one text per RENDER_PAGE members, each the members' JSON
 * objects joined by commas (no brackets; none for an empty list). Kept apart so that a long list is never
 * one string: the response joins and encodes it part by part (src/scim/response-body.ts).
 */
export type MemberItems = readonly string[];

/**
 * Members as clients see them, shaped by their group response's projection (`members.value`,
 * `excludedAttributes=members.display`), as JSON array items without the brackets ('' for none).
 */
function viewsJson(members: readonly StoredMember[], baseUrl: string, projection: Projection): string {
  const views: Json[] = memberViews(members, baseUrl);
  const shaped = isIdentity(projection) ? views : applyProjection({ members: views }, projection).members;
  return Array.isArray(shaped) ? JSON.stringify(shaped).slice(1, -1) : '';
}

/**
 * A member list in hand as items under `projection`, RENDER_PAGE members at a time (fewer where they weigh
 * more than RENDER_PAGE_BYTES) with a yield between.
 */
export async function renderMemberItems(members: readonly StoredMember[], baseUrl: string, projection: Projection): Promise<MemberItems> {
  const items: string[] = [];
  for (let from = 0, size = RENDER_PAGE; from < members.length;) {
    if (from > 0) await yieldToEventLoop();
    const slice = members.slice(from, from + size);
    const part = viewsJson(slice, baseUrl, projection);
    if (part !== '') items.push(part);
    from += slice.length;
    size = nextMemberPage(slice.length, membershipsWeight(slice));
  }
  return items;
}

/**
 * A group's member list as items under `projection`, read page by page with a yield between pages so a
 * 100,000 member list never holds the event loop for long. Pages are all of one group version (restarted
 * if the group changes meanwhile, `attempts` times in all); answers that version (the oldest seen when they
 * never agreed), or null when the group is gone. Pages hold RENDER_PAGE members, fewer where they weigh
 * more than RENDER_PAGE_BYTES, and `firstPage` at first; `onPage` is told what each weighs
 * (membershipsWeight) and holds as it is read.
 */
export async function readMemberItems(
  store: Store,
  connectionId: string,
  groupId: string,
  baseUrl: string,
  projection: Projection,
  attempts = 5,
  onPage: (weight: number, read: number, total: number, first: boolean) => void = () => {},
  firstPage = RENDER_PAGE,
): Promise<{ version: number; items: MemberItems } | null> {
  let last: { version: number; items: MemberItems } | null = null;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const items: string[] = [];
    let version: number | null = null;
    let consistent = true;
    for (let offset = 0, size = firstPage; ;) {
      if (offset > 0) await yieldToEventLoop();
      const page = await store.listGroupMembers(connectionId, groupId, offset, size);
      if (page === null) return null;
      const weight = membershipsWeight(page.members);
      onPage(weight, page.members.length, page.total, offset === 0);
      if (version === null) version = page.version;
      else if (page.version !== version) {
        consistent = false;
        version = Math.min(version, page.version);
      }
      const part = viewsJson(page.members, baseUrl, projection);
      if (part !== '') items.push(part);
      offset += page.members.length;
      if (page.members.length === 0 || offset >= page.total) break;
      size = nextMemberPage(page.members.length, weight);
    }
    last = { version: version ?? 0, items };
    if (consistent) return last;
  }
  // The group kept changing: the oldest version seen, which no later conditional request can match.
  return last;
}

/** What a shaped group's `members` holds until its member items take its place (unguessable). */
const MEMBERS_PLACEHOLDER = `members-${randomUUID()}`;

/**
 * A group with its member items rendered apart, as response body pieces in order (src/scim/response-body.ts
 * joins them): the group's own text under `projection`, split where its member list goes.
 */
export function groupPieces(spec: ResourceSpec, group: StoredResource, items: MemberItems, baseUrl: string, projection: Projection): string[] {
  const shaped = applyProjection(renderResource(spec, { ...group, members: [] }, baseUrl), projection);
  // A projection that leaves none of the members' sub-attributes leaves the list out, as for a whole group.
  const emptied = items.length === 0 && (group.memberCount ?? group.members?.length ?? 0) > 0;
  if (emptied) delete shaped.members;
  if (!Object.hasOwn(shaped, 'members')) return [JSON.stringify(shaped)];
  shaped.members = MEMBERS_PLACEHOLDER;
  const text = JSON.stringify(shaped);
  const at = text.indexOf(`"${MEMBERS_PLACEHOLDER}"`);
  const pieces = [`${text.slice(0, at)}[`];
  items.forEach((item, i) => pieces.push(i === 0 ? item : `,${item}`));
  pieces.push(`]${text.slice(at + MEMBERS_PLACEHOLDER.length + 2)}`);
  return pieces;
}
