/**
 * The PATCH `path` grammar of RFC 7644 §3.5.2 (`PATH = attrPath / valuePath [subAttr]`), resolved against a
 * resource type's schemas: attribute names are matched case-insensitively and rewritten to the schema's
 * spelling (RFC 7643 §2.1), URN prefixes select the core schema or an extension (RFC 7644 §3.10).
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { isAttrName, isSubAttrName } from './attribute-access.js';
import { parseFilter, type FilterNode } from './filter.js';
import { MAX_PATH_LENGTH } from './limits.js';
import { memberRefsAsValues } from './member-ref.js';
import { dottedSchemaUrnProblem, findAttribute, resolveAttribute, splitCustomUrn, splitSchemaUrn, type AttributeDef, type ResourceTypeDef } from './schemas.js';

/**
 * A parsed PATCH path: `schema` is set only for extension attributes: the canonical URN of an extension the
 * type defines, or the URN as written for a custom one (an extension no schema here describes).
 */
export interface PatchPath {
  schema?: string;
  attribute: string;
  filter?: FilterNode;
  subAttribute?: string;
}

/** A {@link PatchPath} with the definitions it resolved to (undefined for attributes no schema declares). */
export interface ResolvedPatchPath extends PatchPath {
  def: AttributeDef | undefined;
  subDef: AttributeDef | undefined;
}

export { MAX_PATH_LENGTH } from './limits.js';

const invalidPath = (text: string, why: string) => fail(scimErrors.badRequest('invalidPath', `invalid path "${clip(text)}": ${why}`));
const clip = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);

/** Whether a path names a whole schema (`urn:…:enterprise:2.0:User`), which the grammar does not allow but clients send. */
export function schemaOfPath(type: ResourceTypeDef, text: string): string | undefined {
  const { urn, rest } = splitSchemaUrn(type, text.trim());
  return urn !== undefined && rest === '' ? urn : undefined;
}

/** Parses a PATCH path (RFC 7644 §3.5.2); a bad path is a 400 `invalidPath`, a bad value filter a 400 `invalidFilter`. */
export function parsePatchPath(type: ResourceTypeDef, text: string): Result<PatchPath> {
  const resolved = resolvePatchPath(type, text);
  if (!resolved.ok) return resolved;
  const { def: _def, subDef: _subDef, ...path } = resolved.value;
  return ok(path);
}

/** Like {@link parsePatchPath}, also returning the attribute definitions. */
export function resolvePatchPath(type: ResourceTypeDef, text: string): Result<ResolvedPatchPath> {
  const scoped = splitPathSchema(type, text);
  if (!scoped.ok) return scoped;
  const parts = splitPathParts(text, scoped.value.rest);
  if (!parts.ok) return parts;
  const { head, filterText, tail } = parts.value;
  // An unqualified extension attribute (Entra documents `"path": "manager"`) resolves to its extension.
  const { schemaId, def, name } = resolveAttribute(type, head, scoped.value.urn);
  const out: ResolvedPatchPath = { attribute: name, def, subDef: undefined };
  if (schemaId !== type.schema.id) out.schema = schemaId;
  if (filterText !== undefined) {
    const filter = valueFilter(text, name, def, filterText, schemaId === type.schema.id && type.name === 'Group' && name === 'members');
    if (!filter.ok) return filter;
    out.filter = filter.value;
  }
  if (tail !== '') {
    const sub = subAttributeOf(text, name, def, tail, filterText !== undefined);
    if (!sub.ok) return sub;
    out.subAttribute = sub.value.name;
    out.subDef = sub.value.def;
  }
  return ok(out);
}

/** The path's schema URN, if it has one (`urn` undefined: none), and what follows it. */
function splitPathSchema(type: ResourceTypeDef, text: string): Result<{ urn: string | undefined; rest: string }> {
  if (typeof text !== 'string') return invalidPath(String(text), 'not a string');
  if (text.length > MAX_PATH_LENGTH) return invalidPath(text, `longer than ${MAX_PATH_LENGTH} characters`);
  const trimmed = text.trim();
  if (trimmed === '') return invalidPath(text, 'empty');
  const dotted = dottedSchemaUrnProblem(type, trimmed);
  if (dotted) return invalidPath(text, dotted);
  const known = splitSchemaUrn(type, trimmed);
  const custom = known.urn === undefined && /^urn:/i.test(trimmed) ? splitCustomUrn(trimmed) : undefined;
  if (custom === null) return invalidPath(text, 'not a schema URN followed by ":" and an attribute name');
  const { urn, rest } = custom ?? known;
  if (urn !== undefined && rest === '') return invalidPath(text, 'names a schema, not an attribute');
  return ok({ urn, rest });
}

/**
 * Splits `attr[filter].sub` / `attr.sub` / `attr` (`tail` '' when there is no sub-attribute); the filter
 * may hold `]` or `[` inside quoted strings. Checks the names' grammar, not what they name.
 */
function splitPathParts(text: string, rest: string): Result<{ head: string; filterText: string | undefined; tail: string }> {
  let head = rest;
  let filterText: string | undefined;
  let tail = '';
  const open = rest.indexOf('[');
  if (open >= 0) {
    const close = closingBracket(rest, open);
    if (close < 0) return invalidPath(text, 'unbalanced "["');
    head = rest.slice(0, open);
    filterText = rest.slice(open + 1, close);
    tail = rest.slice(close + 1);
    if (tail !== '' && !tail.startsWith('.')) return invalidPath(text, 'only ".subAttribute" may follow "]"');
    tail = tail.slice(1);
    if (head.includes('.')) return invalidPath(text, 'a value filter applies to a top-level attribute');
    if (tail === '' && rest.endsWith('.')) return invalidPath(text, 'missing sub-attribute after "."');
  } else {
    const dot = rest.indexOf('.');
    if (dot >= 0) {
      head = rest.slice(0, dot);
      tail = rest.slice(dot + 1);
      if (tail === '') return invalidPath(text, 'missing sub-attribute after "."');
    }
  }
  if (!isAttrName(head)) return invalidPath(text, `"${clip(head)}" is not an attribute name`);
  if (tail !== '' && !isSubAttrName(tail)) return invalidPath(text, `"${clip(tail)}" is not a sub-attribute name`);
  return ok({ head, filterText, tail });
}

/** The value filter of `name[filter]`, which only a multi-valued complex attribute (or an undeclared one) may have. */
function valueFilter(text: string, name: string, def: AttributeDef | undefined, filterText: string, groupMembers: boolean): Result<FilterNode> {
  if (def && (!def.multiValued || def.type !== 'complex')) return invalidPath(text, `${name} is not a multi-valued complex attribute`);
  const filter = parseFilter(filterText);
  // RFC 7644 §3.12 table 9 lists PATCH path filters under `invalidFilter`.
  if (!filter.ok)
    return fail(scimErrors.badRequest(filter.error.scimType ?? 'invalidFilter', `invalid filter in path "${clip(text)}": ${filter.error.message}`));
  // A group's members keep no `$ref`: terms on it become terms on what it is derived from (member-ref.ts).
  return groupMembers ? memberRefsAsValues(filter.value) : filter;
}

/** The sub-attribute `tail` of `name` in the schema's spelling; a multi-valued attribute's only through a value filter (`filtered`). */
function subAttributeOf(
  text: string,
  name: string,
  def: AttributeDef | undefined,
  tail: string,
  filtered: boolean,
): Result<{ name: string; def: AttributeDef | undefined }> {
  if (def && def.type !== 'complex') return invalidPath(text, `${name} has no sub-attributes`);
  if (def?.multiValued && !filtered) {
    // The example filter uses a sub-attribute the attribute has: members have no "work" type.
    const example = findAttribute(def.subAttributes, 'type') && name !== 'members' ? 'type eq "work"' : 'value eq "…"';
    return invalidPath(text, `${name} is multi-valued: select values with a filter, e.g. ${name}[${example}].${tail}`);
  }
  const subDef = findAttribute(def?.subAttributes, tail);
  return ok({ name: subDef?.name ?? tail, def: subDef });
}

/** The index of the `]` closing the `[` at `open`, skipping quoted strings; -1 if unbalanced or nested. */
function closingBracket(text: string, open: number): number {
  let inString = false;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[') return -1;
    else if (c === ']') return i;
  }
  return -1;
}
