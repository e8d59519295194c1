/**
 * Turns a stored resource into what clients see: derived `groups` on users, `members` on groups, and the
 * request-dependent parts of `meta` (`location`, `version`). The ETag is the weak `meta.version`
 * (RFC 7644 §3.14).
 */
import type { StoredMember, StoredResource } from '../store/store.js';
import type { JsonObject } from './normalize.js';
import { insertBeforeMeta, type ResourceSpec } from './resource-spec.js';
import { urlSegment } from '../url-segment.js';
import { fold } from '../fold.js';

export const etagOf = (version: number): string => `W/"${version}"`;

/**
 * Whether an `If-Match` / `If-None-Match` list names the resource at `version`: `*`, or a tag equal to its
 * ETag under the weak comparison (RFC 9110 §8.8.3.2: `W/"3"` and `"3"` are the same tag).
 */
export function etagListMatches(header: string, version: number): boolean {
  const weak = etagOf(version);
  const strong = `"${version}"`;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === weak || t === strong;
  });
}

/** The URL of a resource: `<baseUrl>/Users/<id>`. */
export const locationOf = (spec: ResourceSpec, baseUrl: string, id: string): string => `${baseUrl}${spec.type.endpoint}/${urlSegment(id)}`;

/** The derived `groups` of a user as clients see them. */
function groupsOf(stored: StoredResource, baseUrl: string) {
  return (stored.groups ?? []).map((g) => ({
    value: g.value,
    $ref: `${baseUrl}/Groups/${urlSegment(g.value)}`,
    display: g.display,
    type: 'direct',
  }));
}

/**
 * Whether a member's `type` says Group, compared as a filter compares it (folded: trimmed, any case), so that
 * its `$ref` and `type eq "Group"` agree (member-ref.ts). The usual spellings skip the fold: a group of
 * 100,000 members renders each.
 */
const isGroupType = (type: string | undefined): boolean => type === 'Group' || (type !== undefined && type !== 'User' && fold(type) === 'group');

/**
 * Group members as clients see them, with the `$ref` the Group schema declares (RFC 7643 §4.2): a member
 * whose `type` is `Group` points at /Groups, any other at /Users (IdPs send users without a `type`).
 */
export function memberViews(members: readonly StoredMember[], baseUrl: string): Record<string, string>[] {
  return members.map((m) => {
    const endpoint = isGroupType(m.type) ? 'Groups' : 'Users';
    const view: Record<string, string> = { value: m.value, $ref: `${baseUrl}/${endpoint}/${urlSegment(m.value)}` };
    if (m.display !== undefined) view.display = m.display;
    if (m.type !== undefined) view.type = m.type;
    return view;
  });
}

export function renderResource(spec: ResourceSpec, stored: StoredResource, baseUrl: string): JsonObject {
  let resource = spec.fromStored(stored);
  if (stored.members && resource.members !== undefined) resource.members = memberViews(stored.members, baseUrl);
  if (stored.groups?.length) resource = insertBeforeMeta(resource, 'groups', groupsOf(stored, baseUrl));
  const meta = (resource.meta ?? {}) as JsonObject;
  resource.meta = { ...meta, location: locationOf(spec, baseUrl, stored.id), version: etagOf(stored.version) };
  return resource;
}

const META = ',"meta":{';

/** Ids that urlSegment leaves as they are and JSON.stringify never escapes (UUIDs, and most ids). */
const PLAIN_ID = /^[\w.!~*'()-]+$/;
/** `"<baseUrl><endpoint>/` as JSON text (no closing quote), for the last base and endpoint seen (one per page). */
let lastLocation = { base: '', endpoint: '', json: '' };

/** The same text as `JSON.stringify(locationOf(spec, baseUrl, id))`, without encoding a plain id or re-quoting the base per resource. */
function locationJson(spec: ResourceSpec, baseUrl: string, id: string): string {
  if (!PLAIN_ID.test(id)) return JSON.stringify(locationOf(spec, baseUrl, id));
  const endpoint = spec.type.endpoint;
  if (lastLocation.base !== baseUrl || lastLocation.endpoint !== endpoint) {
    lastLocation = { base: baseUrl, endpoint, json: JSON.stringify(`${baseUrl}${endpoint}/`).slice(0, -1) };
  }
  return `${lastLocation.json}${id}"`;
}

/**
 * The same text as `JSON.stringify(renderResource(...))`, built by splicing into the stored JSON instead of
 * parsing and re-serialising it (a page of 100 users is rendered this way without 100 JSON.parse calls).
 * Stored resources end with their `meta` object, which the SCIM layer always writes last. A group read
 * without members (`members` absent) renders without them. A user in no group (most of them) is the stored
 * text up to the end of its `meta`, then `location` and `version`.
 */
export function renderResourceJson(spec: ResourceSpec, stored: StoredResource, baseUrl: string): string {
  const json = stored.json;
  const metaAt = json.lastIndexOf(META);
  if (metaAt === -1 || !json.endsWith('}}')) return JSON.stringify(renderResource(spec, stored, baseUrl));
  // JSON.stringify(etagOf(version)): a number's text never needs escaping.
  const tail = `"location":${locationJson(spec, baseUrl, stored.id)},"version":"W/\\"${stored.version}\\""}}`;
  let derived = '';
  if (stored.members) derived = `,"members":${JSON.stringify(memberViews(stored.members, baseUrl))}`;
  else if (stored.groups?.length) derived = `,"groups":${JSON.stringify(groupsOf(stored, baseUrl))}`;
  const emptyMeta = metaAt + META.length === json.length - 2;
  if (derived === '') return `${json.slice(0, -2)}${emptyMeta ? '' : ','}${tail}`;
  return `${json.slice(0, metaAt)}${derived}${json.slice(metaAt, -2)}${emptyMeta ? '' : ','}${tail}`;
}
