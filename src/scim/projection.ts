/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9). Attributes whose `returned` is
 * "always" (`id`, `schemas`) survive both; `returned: "never"` ones are never stored in the first place.
 * Entries may be `userName`, `name.givenName`, URN-qualified (`urn:…:enterprise:2.0:User:department`), and
 * — a leniency for Microsoft's test suite — carry a value filter (`emails[type eq "work"]`), which selects
 * the whole attribute.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { deleteAttr, getAttrOf, isAttrName, isSubAttrName, keyOf } from './attribute-access.js';
import { MAX_PATH_LENGTH, MAX_PROJECTION_PATHS } from './limits.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import { CUSTOM_URN, findAttribute, resolveAttribute, splitCustomUrn, splitSchemaUrn, type ResourceTypeDef } from './schemas.js';

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
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) quoted = !quoted;
    else if (!quoted && ch === 0x5b /* [ */) depth++;
    else if (!quoted && ch === 0x5d /* ] */) depth = Math.max(0, depth - 1);
    else if (ch === 0x2c /* , */ && depth === 0 && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** The longest `attributes` or `excludedAttributes` value that can hold MAX_PROJECTION_PATHS paths and their commas. */
const MAX_LIST_LENGTH = MAX_PROJECTION_PATHS * (MAX_PATH_LENGTH + 1);

const invalid = (parameter: string, detail: string) => fail(scimErrors.badRequest('invalidValue', `${parameter}: ${detail}`));
const clip = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/**
 * One entry of `attributes`/`excludedAttributes`: `[urn:…:]attribute[.subAttribute]`, names checked against
 * the RFC 7643 §2.1 grammar and resolved to the schema's spelling; under a URN no schema here has, see
 * {@link customPaths}.
 */
function parsePath(type: ResourceTypeDef, parameter: string, text: string): Result<ProjectedPath[]> {
  if (text.length > MAX_PATH_LENGTH) return invalid(parameter, `an attribute path is longer than ${MAX_PATH_LENGTH} characters`);
  const withoutFilter = text.replace(/\[[^\]]*\]/g, '');
  const { urn, rest } = splitSchemaUrn(type, withoutFilter);
  if (urn !== undefined && rest === '') {
    // The whole extension: `attributes=urn:…:enterprise:2.0:User`.
    return ok(urn === type.schema.id ? [] : [{ container: null, attribute: urn }]);
  }
  if (urn === undefined && /^urn:/i.test(withoutFilter)) {
    const paths = customPaths(withoutFilter);
    return paths.length > 0 ? ok(paths) : invalid(parameter, `"${clip(text)}" is not an attribute path (RFC 7644 §3.10)`);
  }
  const named = attributePath(rest);
  if (!named) return invalid(parameter, `"${clip(text)}" is not an attribute path (RFC 7644 §3.10)`);
  const resolved = resolveAttribute(type, named.attribute, urn);
  const container = resolved.schemaId === type.schema.id ? null : resolved.schemaId;
  if (named.subAttribute === undefined) return ok([{ container, attribute: resolved.name }]);
  const sub = findAttribute(resolved.def?.subAttributes, named.subAttribute)?.name ?? named.subAttribute;
  return ok([{ container, attribute: resolved.name, subAttribute: sub }]);
}

/** `attribute[.subAttribute]` with both names checked against the RFC 7643 §2.1 grammar, else null. */
function attributePath(text: string): { attribute: string; subAttribute?: string } | null {
  const parts = text.split('.');
  const [attribute = '', subAttribute] = parts;
  if (parts.length > 2 || !isAttrName(attribute) || (subAttribute !== undefined && !isSubAttrName(subAttribute))) return null;
  return subAttribute === undefined ? { attribute } : { attribute, subAttribute };
}

/**
 * A path under a URN no schema here has (a custom extension, kept under its URN as sent): `urn:…:ext:User`
 * may name the whole extension, or the attribute `User` of `urn:…:ext`, which only the resource could tell,
 * so both are taken (each selects or drops only what is there).
 */
function customPaths(text: string): ProjectedPath[] {
  const out: ProjectedPath[] = CUSTOM_URN.test(text) ? [{ container: null, attribute: text }] : [];
  const split = splitCustomUrn(text);
  const named = split && attributePath(split.rest);
  if (split && named) out.push({ container: split.urn, ...named });
  return out;
}

function parseList(type: ResourceTypeDef, parameter: string, text: string): Result<ProjectedPath[]> {
  if (text.length > MAX_LIST_LENGTH) {
    return invalid(parameter, `${text.length} characters; at most ${MAX_LIST_LENGTH} (${MAX_PROJECTION_PATHS} paths) are accepted`);
  }
  const entries = splitList(text);
  if (entries.length > MAX_PROJECTION_PATHS) {
    return invalid(parameter, `${entries.length} attribute paths; at most ${MAX_PROJECTION_PATHS} are accepted`);
  }
  const out: ProjectedPath[] = [];
  for (const entry of entries) {
    const paths = parsePath(type, parameter, entry);
    if (!paths.ok) return paths;
    out.push(...paths.value);
  }
  return ok(out);
}

/** Parses both parameters; a malformed or over-long list is a 400 `invalidValue`. */
export function parseProjection(type: ResourceTypeDef, attributes: string | null, excluded: string | null): Result<Projection> {
  const include = attributes ? parseList(type, 'attributes', attributes) : ok(null);
  if (!include.ok) return include;
  const exclude = excluded ? parseList(type, 'excludedAttributes', excluded) : ok([]);
  if (!exclude.ok) return exclude;
  return ok({ include: include.value, exclude: exclude.value });
}

/** Whether a projection leaves resources as they are (no `attributes`, no `excludedAttributes`). */
export const isIdentity = (projection: Projection): boolean => projection.include === null && projection.exclude.length === 0;

export function applyProjection(resource: JsonObject, projection: Projection): JsonObject {
  if (!projection.include && projection.exclude.length === 0) return resource;
  let out: JsonObject;
  if (projection.include) {
    out = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key]!;
    for (const path of projection.include) copyPath(resource, out, path);
    // Keep the original attribute order.
    const ordered: JsonObject = {};
    for (const key of Object.keys(resource)) if (Object.hasOwn(out, key)) ordered[key] = out[key]!;
    out = ordered;
  } else {
    out = { ...resource };
  }
  for (const path of projection.exclude) removePath(out, path);
  return out;
}

/** The object holding a path's attribute: the resource, or its extension object (own keys only). */
function holderOf(resource: JsonObject, path: ProjectedPath): JsonObject | undefined {
  const holder = path.container ? getAttrOf(resource, path.container) : resource;
  return isObject(holder) ? holder : undefined;
}

function copyPath(from: JsonObject, to: JsonObject, path: ProjectedPath): void {
  const source = holderOf(from, path);
  if (!source) return;
  const key = keyOf(source, path.attribute);
  if (key === undefined) return;
  let target = to;
  if (path.container) {
    // The resource's own spelling of the container key (a custom URN is matched case-insensitively).
    const name = keyOf(from, path.container) ?? path.container;
    const existing = Object.hasOwn(to, name) ? to[name] : undefined;
    target = isObject(existing) ? existing : (to[name] = {});
  }
  const value = source[key]!;
  if (!path.subAttribute) {
    target[key] = value;
    return;
  }
  const sub = path.subAttribute;
  if (Array.isArray(value)) {
    target[key] = value.map((item) => pick(item, sub));
  } else if (isObject(value)) {
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    target[key] = { ...(isObject(existing) ? existing : {}), ...pick(value, sub) };
  }
}

function pick(item: unknown, sub: string): JsonObject {
  if (!isObject(item)) return {};
  const key = keyOf(item, sub);
  return key === undefined ? {} : { [key]: item[key]! };
}

function removePath(resource: JsonObject, path: ProjectedPath): void {
  const container = holderOf(resource, path);
  if (!container) return;
  const key = keyOf(container, path.attribute);
  if (key === undefined || (!path.container && ALWAYS.has(key))) return;
  if (!path.subAttribute) {
    deleteAttr(container, key);
    // An extension left with no attribute is left out, as an extension with none is never stored.
    if (path.container && Object.keys(container).length === 0) deleteAttr(resource, keyOf(resource, path.container) ?? path.container);
    return;
  }
  // The resource is a copy, but its values are shared with the stored form: copy what is changed.
  const value = container[key];
  const strip = (item: Json): Json => {
    if (!isObject(item) || keyOf(item, path.subAttribute!) === undefined) return item;
    const copy = { ...item };
    deleteAttr(copy, path.subAttribute!);
    return copy;
  };
  container[key] = Array.isArray(value) ? value.map(strip) : strip(value as Json);
}
