/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9). Attributes whose `returned` is
 * "always" (`id`, `schemas`) survive both; `returned: "never"` ones are never stored in the first place.
 * Entries may be `userName`, `name.givenName`, URN-qualified (`urn:…:enterprise:2.0:User:department`), and
 * — a leniency for Microsoft's test suite — carry a value filter (`emails[type eq "work"]`), which selects
 * the whole attribute.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { deleteAttr, isAttrName, isSubAttrName, keyOf } from './attribute-access.js';
import { MAX_PATH_LENGTH, MAX_PROJECTION_PATHS } from './limits.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import {
  COMMON_ATTRIBUTES,
  CUSTOM_URN,
  dottedSchemaUrnProblem,
  findAttribute,
  resolveAttribute,
  splitCustomUrn,
  splitSchemaUrn,
  type ResourceTypeDef,
} from './schemas.js';

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
 * `text` without its bracketed value filters (`emails[type eq "work"].value` → `emails.value`), each `[` up to
 * the next `]`; an unclosed `[` stays. indexOf, not a pattern: `/\[[^\]]*\]/g` re-reads the rest of the text
 * from every `[` of a run that no `]` closes.
 */
function withoutValueFilters(text: string): string {
  let out = '';
  let from = 0;
  for (let open = text.indexOf('['); open !== -1; open = text.indexOf('[', from)) {
    const close = text.indexOf(']', open + 1);
    if (close === -1) break;
    out += text.slice(from, open);
    from = close + 1;
  }
  return out + text.slice(from);
}

/**
 * One entry of `attributes`/`excludedAttributes`: `[urn:…:]attribute[.subAttribute]`, names checked against
 * the RFC 7643 §2.1 grammar and resolved to the schema's spelling; under a URN no schema here has, see
 * {@link customPaths}.
 */
function parsePath(type: ResourceTypeDef, parameter: string, text: string): Result<ProjectedPath[]> {
  if (text.length > MAX_PATH_LENGTH) return invalid(parameter, `an attribute path is longer than ${MAX_PATH_LENGTH} characters`);
  const withoutFilter = withoutValueFilters(text);
  const dotted = dottedSchemaUrnProblem(type, withoutFilter);
  if (dotted) return invalid(parameter, dotted);
  const { urn, rest } = splitSchemaUrn(type, withoutFilter);
  if (urn !== undefined && rest === '') {
    // The whole extension (`attributes=urn:…:enterprise:2.0:User`), or with the core URN every core
    // attribute of the schema, as a schema URN names all it holds.
    if (urn !== type.schema.id) return ok([{ container: null, attribute: urn }]);
    return ok([...COMMON_ATTRIBUTES, ...type.schema.attributes].map((def) => ({ container: null, attribute: def.name })));
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

/** The last segment of a URN that names a whole extension (`User`, `1.0`): letters, digits, dots and dashes. */
const URN_LAST_SEGMENT = /:[A-Za-z0-9][A-Za-z0-9.-]*$/;

/**
 * A path under a URN no schema here has (a custom extension, kept under its URN as sent): `urn:…:ext:User`
 * may name the whole extension, or the attribute `User` of `urn:…:ext`, which only the resource could tell,
 * so both are taken (each selects or drops only what is there). A text that is neither (what follows the
 * last ":" is no attribute path and no URN segment, `…:__proto__.x`) names nothing: none.
 */
function customPaths(text: string): ProjectedPath[] {
  const out: ProjectedPath[] = CUSTOM_URN.test(text) && URN_LAST_SEGMENT.test(text) ? [{ container: null, attribute: text }] : [];
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

/**
 * The paths of one parameter grouped: per container (null for the resource itself, else an extension URN)
 * and attribute, both in lower case, the whole attribute (true) or the set of its sub-attributes named.
 * Applying it visits each selected value once, whatever the number of paths: 100 sub-attribute paths on a
 * 1,000-value attribute cost one pass over the values, not 100.
 */
type Selection = Map<string | null, Map<string, true | Set<string>>>;

const selections = new WeakMap<ProjectedPath[], Selection>();

function selectionOf(paths: ProjectedPath[]): Selection {
  let selection = selections.get(paths);
  if (selection) return selection;
  selection = new Map();
  for (const path of paths) {
    const container = path.container === null ? null : path.container.toLowerCase();
    let attributes = selection.get(container);
    if (!attributes) selection.set(container, (attributes = new Map()));
    const attribute = path.attribute.toLowerCase();
    const current = attributes.get(attribute);
    if (current === true) continue;
    if (path.subAttribute === undefined) attributes.set(attribute, true);
    else if (current) current.add(path.subAttribute.toLowerCase());
    else attributes.set(attribute, new Set([path.subAttribute.toLowerCase()]));
  }
  selections.set(paths, selection);
  return selection;
}

export function applyProjection(resource: JsonObject, projection: Projection): JsonObject {
  if (!projection.include && projection.exclude.length === 0) return resource;
  const out = projection.include ? selected(resource, selectionOf(projection.include)) : { ...resource };
  if (projection.exclude.length > 0) dropSelected(out, selectionOf(projection.exclude));
  return out;
}

/** The object a container names in `resource` (the resource itself for null) and its own key. */
function holderIn(resource: JsonObject, container: string | null): { key: string | null; holder: JsonObject } | undefined {
  if (container === null) return { key: null, holder: resource };
  const key = keyOf(resource, container);
  const holder = key === undefined ? undefined : resource[key];
  return key !== undefined && isObject(holder) ? { key, holder } : undefined;
}

/** `attributes`: what `resource` holds of the selection, plus `id` and `schemas`, in the resource's attribute order. */
function selected(resource: JsonObject, selection: Selection): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key]!;
  for (const [container, attributes] of selection) {
    const found = holderIn(resource, container);
    if (!found) continue;
    const target: JsonObject = found.key === null ? out : {};
    for (const [attribute, subs] of attributes) {
      const key = keyOf(found.holder, attribute);
      if (key === undefined) continue;
      const value = found.holder[key]!;
      if (subs === true) target[key] = value;
      else if (Array.isArray(value)) {
        // Values none of whose named sub-attributes is set are left out, and the attribute with them if
        // none is left (an empty list stays one: a group's members are shaped before they are filled in).
        const kept = value.map((item) => keptSubs(item, subs)).filter((item) => Object.keys(item).length > 0);
        if (kept.length > 0 || value.length === 0) target[key] = kept;
      } else if (isObject(value)) {
        // A complex attribute none of whose named sub-attributes is set is left out, not shown as {}.
        const kept = keptSubs(value, subs);
        if (Object.keys(kept).length > 0) target[key] = kept;
      }
    }
    // An extension the selection also names whole (`attributes=<urn>,<urn>:department`) stays whole: the
    // list asks for the union (RFC 7644 §3.4.2.5), whichever comes first.
    if (found.key !== null && Object.keys(target).length > 0 && !Object.hasOwn(out, found.key)) out[found.key] = target;
  }
  // Keep the original attribute order.
  const ordered: JsonObject = {};
  for (const key of Object.keys(resource)) if (Object.hasOwn(out, key)) ordered[key] = out[key]!;
  return ordered;
}

/** `excludedAttributes`: removes the selection from `out` (a shallow copy; what it changes below is copied first). */
function dropSelected(out: JsonObject, selection: Selection): void {
  for (const [container, attributes] of selection) {
    const found = holderIn(out, container);
    if (!found) continue;
    // An extension object is shared with the stored form: changed on a copy.
    const holder = found.key === null ? found.holder : (out[found.key] = { ...found.holder });
    for (const [attribute, subs] of attributes) {
      const key = keyOf(holder, attribute);
      if (key === undefined || (found.key === null && ALWAYS.has(key))) continue;
      if (subs === true) {
        deleteAttr(holder, key);
        continue;
      }
      const value = holder[key]!;
      const left = Array.isArray(value) ? value.map((item) => withoutSubs(item, subs)).filter((item) => !isEmptyObject(item)) : withoutSubs(value, subs);
      // What is left empty of a value, or of the attribute, is left out (RFC 7643 §2.5: unassigned).
      if (isEmptyObject(left) || (Array.isArray(left) && left.length === 0 && Array.isArray(value) && value.length > 0)) deleteAttr(holder, key);
      else holder[key] = left;
    }
    // An extension left with no attribute is left out, as an extension with none is never stored.
    if (found.key !== null && Object.keys(holder).length === 0) deleteAttr(out, found.key);
  }
}

/** The keys of an object that a set of lower-case sub-attribute names selects: O(min(keys, names)). */
function selectedKeys(item: JsonObject, subs: Set<string>): string[] {
  const keys = Object.keys(item);
  if (keys.length <= subs.size) return keys.filter((k) => subs.has(k.toLowerCase()));
  const out: string[] = [];
  for (const sub of subs) {
    const key = keyOf(item, sub);
    if (key !== undefined) out.push(key);
  }
  return out;
}

function keptSubs(item: Json, subs: Set<string>): JsonObject {
  if (!isObject(item)) return {};
  const out: JsonObject = {};
  for (const key of selectedKeys(item, subs)) out[key] = item[key]!;
  return out;
}

const isEmptyObject = (value: Json): boolean => isObject(value) && Object.keys(value).length === 0;

function withoutSubs(item: Json, subs: Set<string>): Json {
  if (!isObject(item)) return item;
  const drop = selectedKeys(item, subs);
  if (drop.length === 0) return item;
  const copy = { ...item };
  for (const key of drop) deleteAttr(copy, key);
  return copy;
}
