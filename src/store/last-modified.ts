/**
 * A resource changed by a cascade rather than by a write of its own: a group that a deleted user or group
 * leaves. Its `meta.lastModified` moves with its version, in its JSON and in its `meta.lastModified` sort
 * entry, so that a client reading changes by `meta.lastModified` (a filter or `sortBy`) sees it. The SCIM
 * layer writes `meta` as a resource's last attribute (src/scim/resource-spec.ts), which is what lets a store
 * set it without parsing the JSON. The Redis store does the same in Lua (touchAt, src/store/redis-lua-prelude.ts).
 */

/** The sort index attribute that holds `meta.lastModified` (src/scim/users.ts, src/scim/groups.ts). */
export const LAST_MODIFIED_SORT_ATTRIBUTE = 'meta.lastModified';

const LAST_MODIFIED = '"lastModified":"';
/** A `"lastModified":"…"}}` ending, as the SCIM layer writes it (the value is 24 characters). */
const TRAILING_LAST_MODIFIED = /^"lastModified":"[^"]{0,40}"}}$/;

/** The JSON with its trailing `meta.lastModified` set to `iso`; unchanged when it does not end with one. Reads only its tail. */
export function withLastModified(json: string, iso: string): string {
  const at = json.lastIndexOf(LAST_MODIFIED);
  if (at === -1 || json.length - at > 80 || !TRAILING_LAST_MODIFIED.test(json.slice(at))) return json;
  return `${json.slice(0, at)}${LAST_MODIFIED}${iso}"}}`;
}

/** The sort value of a `meta.lastModified` (a dateTime is not caseExact: src/scim/sort.ts sortValue). */
export function lastModifiedSortValue(iso: string): string {
  return iso.toLowerCase();
}
