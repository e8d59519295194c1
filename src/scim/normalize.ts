/**
 * Brings attribute values sent by clients into canonical shape, guided by the schema:
 * - attribute names are matched case-insensitively and rewritten to the schema's spelling (RFC 7643 §2.1;
 *   Microsoft's test suite sends `Primary`, `Department`, `Manager.Value`);
 * - boolean attributes accept "True"/"False" strings in any case (Entra's default PATCH) and emit booleans;
 * - a multi-valued attribute sent as a single object becomes a one-element array (OneLogin's `emails`);
 * - `null` means unassigned (RFC 7643 §2.5): such keys are dropped, as are empty arrays;
 * - a key qualified with a schema's URN (`urn:…:core:2.0:User:active`, `urn:…:enterprise:2.0:User:department`,
 *   `…:name.givenName`) is the attribute it names, as in a path-less PATCH (RFC 7644 §3.10);
 * - attributes no schema declares are kept exactly as sent.
 * Values of the wrong type for a known attribute are a 400 `invalidValue`, but for one case: a number or a
 * boolean sent for a string attribute is kept as its text (`"employeeNumber": 701984`), as IdPs' attribute
 * mappings send them.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { MAX_OBJECT_KEYS } from './limits.js';
import { isReservedName } from './reserved-names.js';
import { dottedSchemaUrnProblem, findAttribute, findSchema, resolveAttribute, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './schemas.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses a boolean the way real clients send it: JSON booleans, or "true"/"false" in any case. */
export function coerceBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

/**
 * Normalises one value of an attribute whose definition is known. `where` names it in error messages; with
 * `name`, the attribute is `name` inside `where` (the path is only built for a message or a nested object:
 * a 30,000-member list builds none per member).
 */
export function normalizeValue(
  def: AttributeDef,
  value: Json,
  where: string,
  name?: string,
  inEntry = false,
  keepEntriesWithoutData = false,
): Result<Json | undefined> {
  if (value === null || (value === '' && !inEntry)) return ok(undefined); // rule 15: see normalizeSingle
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const out: Json[] = [];
    let primary = false;
    for (const item of items) {
      const one = normalizeSingle(def, item, where, name, true);
      if (!one.ok) return one;
      if (one.value === undefined) continue;
      const withoutData = def.type === 'complex' && holdsNoData(def, one.value);
      if (withoutData && !keepEntriesWithoutData) continue;
      // RFC 7643 §2.4: `primary` true at most once; as a PATCH does (RFC 7644 §3.5.2), the first one wins. An
      // entry a PATCH keeps without data wins nothing (it is left out once the PATCH is applied).
      if (isObject(one.value) && one.value.primary === true && !withoutData) {
        if (primary) one.value = { ...one.value, primary: false };
        primary = true;
      }
      out.push(one.value);
    }
    return ok(out.length ? out : undefined);
  }
  if (Array.isArray(value)) {
    // A single-valued attribute sent as an array of one (Entra sends `manager` as `[{value}]`).
    if (value.length === 0) return ok(undefined);
    if (value.length === 1) return normalizeSingle(def, value[0] as Json, where, name, inEntry);
    return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} is single-valued but an array was sent`));
  }
  return normalizeSingle(def, value, where, name, inEntry);
}

/**
 * {@link normalizeValue} for one PATCH operation's value: entries holding no data are kept, for a later
 * operation of the same PATCH to fill (`add emails [{"type": "work", "primary": true}]`, then `replace
 * emails[type eq "work"].value`); those still empty once every operation has applied are dropped when the
 * PATCH's result is built as any write is (buildResource, src/scim/resources.ts).
 */
export const normalizeOperationValue = (def: AttributeDef, value: Json, where: string): Result<Json | undefined> =>
  normalizeValue(def, value, where, undefined, false, true);

/** Sub-attributes that describe an entry of a multi-valued attribute rather than hold what it is. */
const DESCRIPTORS: ReadonlySet<string> = new Set(['type', 'primary']);

/**
 * Whether an entry of a multi-valued attribute holds nothing but its `type` and `primary`, empty strings read
 * as no value (rule 15): an email or a phone number without a value, an address of empty fields. OneLogin's
 * templates send `{"value": "", "type": "work", "primary": true}` for a user without an email; kept, it would
 * be a primary email without an address. Such entries are left out of every write (docs/idp-behaviour.md
 * rule 21). Not a group's members: `{"value": ""}` there is a 400, never a member silently dropped.
 */
export function holdsNoData(def: AttributeDef, entry: Json): boolean {
  if (def.name === 'members' || !isObject(entry)) return false;
  for (const key in entry) {
    if (!Object.hasOwn(entry, key) || DESCRIPTORS.has(key.toLowerCase())) continue;
    const value = entry[key];
    if (value !== null && value !== '') return false;
  }
  return true;
}

const pathOf = (where: string, name: string | undefined): string => (name === undefined ? where : where ? `${where}.${name}` : name);

/** Whether an object has an own enumerable key (without listing them all). */
function hasKeys(object: JsonObject): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/**
 * One value. `inEntry`: the value is, or sits in, an entry of a multi-valued attribute (an email, a member),
 * where an empty string is kept for the entry's own checks to refuse (a member `{"value": ""}` is a 400,
 * not a member silently dropped); elsewhere an empty string is no value.
 */
function normalizeSingle(def: AttributeDef, value: Json, where: string, name: string | undefined, inEntry: boolean): Result<Json | undefined> {
  // An empty string is no value (docs/idp-behaviour.md rule 15), whatever the attribute's type: it is absent,
  // as after a clearing PATCH (`title`, `name.familyName`, `manager` or `manager.value`, `active`; a complex
  // value left without sub-attributes is absent too). A required attribute sent empty is then refused as missing.
  if (value === null || (value === '' && !inEntry)) return ok(undefined);
  switch (def.type) {
    case 'boolean': {
      const b = coerceBoolean(value);
      if (b === undefined) return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} must be a boolean`));
      return ok(b);
    }
    case 'complex': {
      if (!isObject(value)) {
        // A bare value for a complex attribute means its `value` sub-attribute (manager: "<id>", members: "<id>").
        if (typeof value === 'string' && findAttribute(def.subAttributes, 'value')) return ok({ value });
        return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} must be an object`));
      }
      const out = normalizeObject(def.subAttributes ?? [], value, pathOf(where, name), inEntry);
      if (!out.ok) return out;
      return ok(hasKeys(out.value) && !blankReference(def, out.value, inEntry) ? out.value : undefined);
    }
    case 'string':
    case 'reference':
    case 'binary':
    case 'dateTime':
      if (typeof value === 'string') return ok(value);
      // IdP mappings send numbers for strings (an employee number); one past 2^53 lost its last digits in
      // the parse, and kept so, a lookup by the digits the IdP holds would never find it.
      if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} is a number too long to keep exactly (past 2^53 - 1); send it as a string`));
      }
      if (typeof value === 'number' || typeof value === 'boolean') return ok(String(value));
      return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} must be a string`));
    case 'integer':
    case 'decimal':
      if (typeof value === 'number') return ok(value);
      return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} must be a number`));
  }
}

/**
 * Whether a single-valued reference (`manager`) names nobody: no `value`, and nothing but blank strings
 * beside it. OneLogin's template sends `{"value": "", "displayName": " "}` for a user without a manager (its
 * two name placeholders, empty): stored, it was a manager every `manager pr` filter found (rule 7 of
 * docs/idp-behaviour.md). A `displayName` sent without a `value` is kept.
 */
function blankReference(def: AttributeDef, value: JsonObject, inEntry: boolean): boolean {
  if (inEntry || def.multiValued || !findAttribute(def.subAttributes, 'value') || Object.hasOwn(value, 'value')) return false;
  return Object.values(value).every((sub) => typeof sub === 'string' && sub.trim() === '');
}

/**
 * Normalises the attributes of an object against a list of definitions; unknown keys are kept, save empty
 * strings outside a multi-valued attribute's entries (`inEntry`, see normalizeSingle).
 */
function normalizeObject(defs: AttributeDef[], input: JsonObject, where = '', inEntry = false): Result<JsonObject> {
  const out: JsonObject = {};
  const keys = Object.keys(input);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // JSON.parse makes "__proto__" an own key; assigning it would swap the output object's prototype.
    if (key === '__proto__') return fail(scimErrors.badRequest('invalidValue', 'the attribute name "__proto__" is not allowed'));
    const value = input[key]!;
    const def = findAttribute(defs, key);
    const name = def?.name ?? key;
    // `userName` and `USERNAME` in one object name one attribute (RFC 7643 §2.1): which value the client meant
    // is not ours to guess, and a proxy or validator in front may have read the other.
    if (def && Object.hasOwn(out, name))
      return fail(scimErrors.badRequest('invalidValue', `${pathOf(where, name)} is given twice, in keys differing only in case`));
    if (!def) {
      if (value !== null && (value !== '' || inEntry)) out[name] = value;
      continue;
    }
    const normalized = normalizeValue(def, value, where, name, inEntry);
    if (!normalized.ok) return normalized;
    if (normalized.value !== undefined) out[name] = normalized.value;
  }
  return ok(out);
}

/** The schema whose URN qualifies `key` (`<urn>:<attribute>[.<sub-attribute>]`), and the path after it; else null. */
function qualifiedKey(type: ResourceTypeDef, key: string): { schema: SchemaDef; path: string } | null {
  if (!key.includes(':')) return null;
  const lower = key.toLowerCase();
  for (const schema of [type.schema, ...type.extensions]) {
    const prefix = `${schema.id.toLowerCase()}:`;
    if (lower.startsWith(prefix) && key.length > prefix.length) return { schema, path: key.slice(prefix.length) };
  }
  return null;
}

/** An extension attribute named without its URN (`department`, `manager.value`), as resolveAttribute resolves it; else null. */
function extensionKey(type: ResourceTypeDef, key: string): { schema: SchemaDef; path: string } | null {
  if (type.extensions.length === 0 || key.includes(':')) return null;
  const dot = key.indexOf('.');
  const { schemaId } = resolveAttribute(type, dot === -1 ? key : key.slice(0, dot));
  const schema = schemaId === type.schema.id ? undefined : findSchema(type, schemaId);
  return schema ? { schema, path: key } : null;
}

const invalid = (detail: string): Result<never> => fail(scimErrors.badRequest('invalidValue', detail));

/**
 * The extension attributes `input` names with their URN, in an extension's object or as a URN-qualified key,
 * as `<schema id>\0<lower-cased attribute>`: O(the body's keys), built once per body.
 */
function namedWithUrn(type: ResourceTypeDef, input: JsonObject, qualified: [string, { schema: SchemaDef; path: string }][]): Set<string> {
  const named = new Set<string>();
  const keys = new Map(Object.keys(input).map((k) => [k.toLowerCase(), k]));
  for (const extension of type.extensions) {
    const key = keys.get(extension.id.toLowerCase());
    const object = key === undefined ? undefined : input[key];
    if (isObject(object)) for (const k of Object.keys(object)) named.add(`${extension.id}\0${k.toLowerCase()}`);
  }
  for (const [, q] of qualified) named.add(`${q.schema.id}\0${q.path.split('.', 1)[0]!.toLowerCase()}`);
  return named;
}

/**
 * A body holding its core attributes in an object keyed by the core schema's URN
 * (`{"urn:ietf:params:scim:schemas:core:2.0:User": {"title": "T"}}`), as extensions hold theirs: each of
 * them as a URN-qualified key, which unqualifyKeys then places (a path-less PATCH applies the same object to
 * the core attributes). Kept as it was, the object was stored as an unknown attribute, `password` inside it
 * included (a bug hunt, 2026-12-06).
 */
function withCoreObjectFlattened(type: ResourceTypeDef, body: JsonObject): Result<JsonObject> {
  const core = type.schema.id.toLowerCase();
  // Every write's body passes here: only a key of the URN's length is lower-cased.
  let key: string | undefined;
  for (const k in body) {
    if (k.length === core.length && Object.hasOwn(body, k) && k.toLowerCase() === core) {
      key = k;
      break;
    }
  }
  if (key === undefined) return ok(body);
  const inner = body[key];
  if (!isObject(inner)) return invalid(`${key} must be an object holding core attributes`);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (k !== key) out[k] = v;
  for (const [k, v] of Object.entries(inner)) {
    if (k.includes(':')) return invalid(`${key} holds "${k.length > 40 ? `${k.slice(0, 37)}...` : k}", which is not a core attribute name`);
    const qualifiedKey = `${type.schema.id}:${k}`;
    if (Object.hasOwn(out, qualifiedKey)) return invalid(`${qualifiedKey} is named twice; send one of them`);
    out[qualifiedKey] = v;
  }
  return ok(out);
}

/**
 * Puts each URN-qualified attribute key of a POST/PUT body where its unqualified form goes: a core attribute
 * at the top level, an extension attribute in its extension object, `attr.sub` inside `attr`; with
 * `bareExtensionNames`, so too a key naming an extension attribute without its URN (`department`), as
 * resolveAttribute reads it in paths (client bodies only: see {@link placeBareExtensionNames}). Naming one
 * attribute two ways is a 400: which of the two the client meant is not ours to guess. Keys qualified with
 * a URN no schema of the type has are kept as sent, as any unknown attribute is. Input is not modified.
 * Linear in the body's keys: each object's names are indexed case-insensitively once.
 */
function unqualifyKeys(type: ResourceTypeDef, body: JsonObject, bareExtensionNames = false): Result<JsonObject> {
  const flattened = withCoreObjectFlattened(type, body);
  if (!flattened.ok) return flattened;
  const input = flattened.value;
  const qualified: [string, { schema: SchemaDef; path: string }][] = [];
  const bare: [string, { schema: SchemaDef; path: string }][] = [];
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(input)) {
    // JSON.parse makes "__proto__" an own key; assigning it below would swap the output object's prototype.
    if (key === '__proto__') return invalid('the attribute name "__proto__" is not allowed');
    const dotted = dottedSchemaUrnProblem(type, key);
    if (dotted) return invalid(dotted);
    const found = qualifiedKey(type, key);
    const named = found ? null : bareExtensionNames ? extensionKey(type, key) : null;
    if (found) qualified.push([key, found]);
    else if (named) bare.push([key, named]);
    else out[key] = value;
  }
  // A bare name the body also names with its URN (in the extension object or as a qualified key) stays at
  // the top level, an unknown attribute as any other: so a resource an earlier version stored that way, read
  // and sent back whole, is accepted, and the extension's own value is the one the attribute's paths reach.
  const withUrn = bare.length > 0 ? namedWithUrn(type, input, qualified) : null;
  for (const [key, named] of bare) {
    if (withUrn!.has(`${named.schema.id}\0${named.path.split('.', 1)[0]!.toLowerCase()}`)) out[key] = input[key]!;
    else qualified.push([key, named]);
  }
  if (qualified.length === 0) return ok(input);
  // Attribute names are case-insensitive: each object's own keys by their lower case, built on first use.
  const names = new Map<JsonObject, Map<string, string>>();
  const namesOf = (target: JsonObject) => {
    let index = names.get(target);
    if (!index) names.set(target, (index = new Map(Object.keys(target).map((k) => [k.toLowerCase(), k]))));
    return index;
  };
  /** Sets `target[name]` (a fresh key of it) and indexes it. */
  const put = (target: JsonObject, name: string, value: Json) => {
    target[name] = value;
    namesOf(target).set(name.toLowerCase(), name);
  };
  /** Objects made here (copies of the input's, or new): changed in place, each copied at most once. */
  const owned = new Set<JsonObject>([out]);
  /** The object at `target[name]`, copied into place the first time (the input stays as sent), or a new one. */
  const ownObject = (target: JsonObject, name: string): JsonObject | null => {
    const current = (Object.hasOwn(target, name) ? target[name] : undefined) ?? {};
    if (!isObject(current)) return null;
    if (owned.has(current)) return current;
    const copy: JsonObject = { ...current };
    owned.add(copy);
    put(target, name, copy);
    return copy;
  };
  for (const [key, { schema, path }] of qualified) {
    const parts = path.split('.');
    if (parts.length > 2 || parts.some((p) => p === '' || isReservedName(p))) return invalid(`${key} is not an attribute of ${schema.id}`);
    let target: JsonObject | null = out;
    if (schema.id !== type.schema.id) {
      target = ownObject(out, namesOf(out).get(schema.id.toLowerCase()) ?? schema.id);
      if (!target) return invalid(`${schema.id} must be an object`);
    }
    const [attribute, sub] = parts as [string, string | undefined];
    const present = namesOf(target).get(attribute.toLowerCase());
    if (sub === undefined) {
      if (present !== undefined) return invalid(`${key} and ${present} name the same attribute; send one of them`);
      put(target, attribute, input[key]!);
      continue;
    }
    const parent = ownObject(target, present ?? attribute);
    if (!parent) return invalid(`${key} names a sub-attribute of ${present ?? attribute}, which is not an object`);
    const same = namesOf(parent).get(sub.toLowerCase());
    if (same !== undefined) return invalid(`${key} and ${present ?? attribute}.${same} name the same attribute; send one of them`);
    put(parent, sub, input[key]!);
  }
  return ok(out);
}

/**
 * A POST or PUT body with its extension attributes named without their URN (`department`, `manager`) moved
 * into their extension, as a PATCH path naming them reaches them there. Only a client's body: a resource an
 * earlier version stored with such a key at the top level keeps it there when a PATCH rebuilds it (moving
 * it then would make it collide with the extension's own value, and refuse every PATCH of that resource).
 */
export function placeBareExtensionNames(type: ResourceTypeDef, body: unknown): Result<unknown> {
  return isObject(body) ? unqualifyKeys(type, body, true) : ok(body);
}

/**
 * Normalises a whole resource body: core attributes by name, extension attributes under their schema URN
 * (matched case-insensitively and rewritten to the canonical URN), URN-qualified attribute keys as the
 * attributes they name ({@link unqualifyKeys}). `schemas` is passed through untouched.
 */
export function normalizeResource(type: ResourceTypeDef, body: JsonObject, coreDefs: AttributeDef[]): Result<JsonObject> {
  const unqualified = unqualifyKeys(type, body);
  if (!unqualified.ok) return unqualified;
  const input = unqualified.value;
  const core: JsonObject = {};
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(input)) {
    const extension = key.includes(':') ? findSchema(type, key) : undefined;
    if (extension && extension.id !== type.schema.id) {
      if (value === null) continue;
      if (!isObject(value)) return fail(scimErrors.badRequest('invalidValue', `${extension.id} must be an object`));
      const normalized = normalizeObject(extension.attributes, value, extension.id);
      if (!normalized.ok) return normalized;
      if (Object.keys(normalized.value).length) out[extension.id] = normalized.value;
    } else if (key.toLowerCase() === 'schemas') {
      // Refused here, before anything walks the list (its limit is resource-limits.ts's, checked again later).
      if (Array.isArray(value) && value.length > MAX_OBJECT_KEYS) return invalid(`schemas lists ${value.length} URNs; at most ${MAX_OBJECT_KEYS} are accepted`);
      out.schemas = value;
    } else {
      core[key] = value;
    }
  }
  const normalizedCore = normalizeObject(coreDefs, core);
  if (!normalizedCore.ok) return normalizedCore;
  return ok({ ...normalizedCore.value, ...out });
}
