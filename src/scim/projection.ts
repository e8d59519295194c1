/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9). Attributes whose `returned` is
 * "always" (`id`, `schemas`) survive both; `returned: "never"` ones are never stored in the first place.
 * Entries may be `userName`, `name.givenName`, URN-qualified (`urn:…:enterprise:2.0:User:department`), and
 * — a leniency for Microsoft's test suite — carry a value filter (`emails[type eq "work"]`), which selects
 * the whole attribute.
 */
import type { JsonObject } from './normalize.js';
import { findSchema, type ResourceTypeDef } from './schemas.js';

/** One requested attribute: where it lives (core or an extension URN key), its name, and an optional sub-attribute. */
interface ProjectedPath {
  container: string | null;
  attribute: string;
  subAttribute?: string;
}

export interface Projection {
  include: ProjectedPath[] | null;
  exclude: ProjectedPath[];
}

const ALWAYS = new Set(['id', 'schemas']);

/** Splits a comma-separated list, ignoring commas inside `[...]` or quotes. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '[') depth++;
    else if (!quoted && ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0 && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

function parsePath(type: ResourceTypeDef, text: string): ProjectedPath {
  const withoutFilter = text.replace(/\[[^\]]*\]/g, '');
  let container: string | null = null;
  let rest = withoutFilter;
  if (withoutFilter.toLowerCase().startsWith('urn:')) {
    const lastColon = withoutFilter.lastIndexOf(':');
    const urn = withoutFilter.slice(0, lastColon);
    const schema = findSchema(type, urn) ?? findSchema(type, withoutFilter);
    if (schema && schema.id.toLowerCase() === withoutFilter.toLowerCase()) {
      // The whole extension: `attributes=urn:…:enterprise:2.0:User`.
      return { container: null, attribute: schema.id };
    }
    rest = withoutFilter.slice(lastColon + 1);
    container = schema && schema.id !== type.schema.id ? schema.id : null;
  }
  const [attribute = '', subAttribute] = rest.split('.', 2);
  return subAttribute ? { container, attribute, subAttribute } : { container, attribute };
}

export function parseProjection(type: ResourceTypeDef, attributes: string | null, excluded: string | null): Projection {
  return {
    include: attributes ? splitList(attributes).map((p) => parsePath(type, p)) : null,
    exclude: excluded ? splitList(excluded).map((p) => parsePath(type, p)) : [],
  };
}

/** Whether a projection leaves resources as they are (no `attributes`, no `excludedAttributes`). */
export const isIdentity = (projection: Projection): boolean => projection.include === null && projection.exclude.length === 0;

const keyOf = (object: JsonObject, name: string): string | undefined => {
  if (name in object) return name;
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower);
};

export function applyProjection(resource: JsonObject, projection: Projection): JsonObject {
  if (!projection.include && projection.exclude.length === 0) return resource;
  let out: JsonObject;
  if (projection.include) {
    out = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key]!;
    for (const path of projection.include) copyPath(resource, out, path);
    // Keep the original attribute order.
    const ordered: JsonObject = {};
    for (const key of Object.keys(resource)) if (key in out) ordered[key] = out[key]!;
    out = ordered;
  } else {
    out = { ...resource };
  }
  for (const path of projection.exclude) removePath(out, path);
  return out;
}

function copyPath(from: JsonObject, to: JsonObject, path: ProjectedPath): void {
  const source = path.container ? from[path.container] : from;
  if (!source || typeof source !== 'object' || Array.isArray(source)) return;
  const key = keyOf(source, path.attribute);
  if (key === undefined) return;
  const target = path.container ? ((to[path.container] ??= {}) as JsonObject) : to;
  const value = source[key]!;
  if (!path.subAttribute) {
    target[key] = value;
    return;
  }
  const sub = path.subAttribute;
  if (Array.isArray(value)) {
    target[key] = value.map((item) => pick(item, sub));
  } else if (value && typeof value === 'object') {
    target[key] = { ...((target[key] as JsonObject | undefined) ?? {}), ...pick(value, sub) };
  }
}

function pick(item: unknown, sub: string): JsonObject {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return {};
  const object = item as JsonObject;
  const key = keyOf(object, sub);
  return key === undefined ? {} : { [key]: object[key]! };
}

function removePath(resource: JsonObject, path: ProjectedPath): void {
  const container = path.container ? resource[path.container] : resource;
  if (!container || typeof container !== 'object' || Array.isArray(container)) return;
  const key = keyOf(container, path.attribute);
  if (key === undefined || (!path.container && ALWAYS.has(key))) return;
  if (!path.subAttribute) {
    delete container[key];
    return;
  }
  const value = container[key];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const sub = keyOf(item, path.subAttribute);
      if (sub !== undefined) delete item[sub];
    }
  }
}
