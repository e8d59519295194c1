/**
 * Turns a stored resource into what clients see: derived `groups` on users, `members` on groups, and the
 * request-dependent parts of `meta` (`location`, `version`). The ETag is the weak `meta.version`
 * (RFC 7644 §3.14).
 */
import type { StoredResource } from '../store/store.js';
import type { JsonObject } from './normalize.js';
import { insertBeforeMeta, type ResourceSpec } from './resource-spec.js';

export const etagOf = (version: number): string => `W/"${version}"`;

/** The URL of a resource: `<baseUrl>/Users/<id>`. */
export const locationOf = (spec: ResourceSpec, baseUrl: string, id: string): string =>
  `${baseUrl}${spec.type.endpoint}/${encodeURIComponent(id)}`;

export function renderResource(spec: ResourceSpec, stored: StoredResource, baseUrl: string): JsonObject {
  let resource = spec.fromStored(stored);
  if (stored.groups?.length) {
    resource = insertBeforeMeta(
      resource,
      'groups',
      stored.groups.map((g) => ({
        value: g.value,
        $ref: `${baseUrl}/Groups/${encodeURIComponent(g.value)}`,
        display: g.display,
        type: 'direct',
      })),
    );
  }
  const meta = (resource.meta ?? {}) as JsonObject;
  resource.meta = { ...meta, location: locationOf(spec, baseUrl, stored.id), version: etagOf(stored.version) };
  return resource;
}
