/**
 * The shape budget of a resource as it is about to be stored (POST, PUT, and the result of a PATCH): names
 * that are valid attribute names and not `Object.prototype` members, bounded widths, bounded value lists,
 * bounded identifier lengths (src/scim/limits.ts; docs/limits.md gives the reasons). Violations are a 400
 * `invalidValue` naming the place.
 *
 * A write never makes an existing resource unwritable: an attribute that breaks a limit but is unchanged
 * from the stored resource (stored before the limit existed) is accepted as it is, so such a user can
 * still be deactivated by a PATCH or a GET-then-PUT.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { isReservedName, isSubAttrName, isAttrName, isUrnKey } from './attribute-access.js';
import {
  CONTACT_ATTRIBUTES,
  MAX_CONTACT_VALUES,
  MAX_EMAIL_LENGTH,
  MAX_IDENTIFIER_LENGTH,
  MAX_MEMBERS,
  MAX_NAME_LENGTH,
  MAX_OBJECT_KEYS,
  MAX_VALUES,
} from './limits.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import { jsonEqual } from './patch-apply.js';

/** Top-level string attributes with a length limit (they are indexed, unique or shown as names). */
const IDENTIFIERS: ReadonlySet<string> = new Set(['userName', 'externalId', 'displayName']);

const invalid = (detail: string) => fail(scimErrors.badRequest('invalidValue', detail));
const shown = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name);

/** Why a top-level attribute's value breaks the budget, or null. `name` is its key in the resource. */
function checkValue(name: string, value: Json): string | null {
  const maxValues = name === 'members' ? MAX_MEMBERS : CONTACT_ATTRIBUTES.has(name) ? MAX_CONTACT_VALUES : MAX_VALUES;
  if (typeof value === 'string') {
    if (IDENTIFIERS.has(name) && value.length > MAX_IDENTIFIER_LENGTH)
      return `${name} is ${value.length} characters long; at most ${MAX_IDENTIFIER_LENGTH} are accepted`;
    return null;
  }
  if (name === 'schemas' && Array.isArray(value)) return checkSchemas(value);
  if (Array.isArray(value) && value.length <= maxValues) {
    const flat = checkFlatList(name, value);
    if (flat !== undefined) return flat;
  }
  return walkValue(name, value, maxValues);
}

function checkSchemas(urns: Json[]): string | null {
  if (urns.length > MAX_OBJECT_KEYS) return `schemas lists ${urns.length} URNs; at most ${MAX_OBJECT_KEYS} are accepted`;
  const long = urns.find((urn) => typeof urn === 'string' && urn.length > MAX_NAME_LENGTH);
  return long === undefined ? null : `schemas holds a URN longer than ${MAX_NAME_LENGTH} characters`;
}

/**
 * The common case, and the big one (45,000 members): a list of flat elements, checked without the general
 * walk. Why it breaks the budget, null when it is fine, undefined when an element is not flat (walkValue).
 */
function checkFlatList(name: string, list: Json[]): string | null | undefined {
  for (const item of list) {
    if (!isObject(item)) return undefined;
    const problem = checkFlatElement(name, item);
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * The general check of a value: iterative, since depth is already bounded by body.ts (MAX_BODY_DEPTH);
 * width is bounded here (`maxValues` for the attribute's own list, MAX_VALUES below it).
 */
function walkValue(name: string, value: Json, maxValues: number): string | null {
  const stack: { node: Json; where: string; top: boolean }[] = [{ node: value, where: name, top: true }];
  while (stack.length) {
    const { node, where, top } = stack.pop()!;
    if (Array.isArray(node)) {
      const limit = top ? maxValues : MAX_VALUES;
      if (node.length > limit) return `${where} has ${node.length} values; at most ${limit} are accepted`;
      for (const item of node) {
        if (typeof item === 'object' && item !== null) stack.push({ node: item, where, top: false });
        else if (top && typeof item === 'string') {
          const problem = checkElementString(name, 'value', item);
          if (problem) return problem;
        }
      }
      continue;
    }
    if (!isObject(node)) continue;
    const problem = checkObjectKeys(name, node, where, stack);
    if (problem) return problem;
  }
  return null;
}

/** One object of walkValue: its keys' count and names, its `value` when it is an element of the attribute; pushes what it nests. */
function checkObjectKeys(name: string, node: JsonObject, where: string, stack: { node: Json; where: string; top: boolean }[]): string | null {
  const keys = Object.keys(node);
  if (keys.length > MAX_OBJECT_KEYS) return `${where} has ${keys.length} sub-attributes; at most ${MAX_OBJECT_KEYS} are accepted`;
  for (const key of keys) {
    if (!isSubAttrName(key) || isReservedName(key)) return `${where} holds ${shown(key)}, which is not an attribute name (RFC 7643 §2.1)`;
    const item = node[key]!;
    if (typeof item === 'string') {
      if (where === name) {
        const problem = checkElementString(name, key, item);
        if (problem) return problem;
      }
    } else if (typeof item === 'object' && item !== null) {
      stack.push({ node: item, where: `${where}.${key}`, top: false });
    }
  }
  return null;
}

/** Names already checked (sub-attribute names repeat across the elements of a list). */
const goodNames = new Set<string>(['value', 'display', 'type', 'primary', '$ref', 'displayName']);

/**
 * One element of a multi-valued attribute whose sub-attributes are all simple: why it breaks the budget,
 * null when it is fine, undefined when it holds nested values (the general walk then checks it).
 */
function checkFlatElement(name: string, item: JsonObject): string | null | undefined {
  let keys = 0;
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue;
    if (++keys > MAX_OBJECT_KEYS) return `${name} has a value with more than ${MAX_OBJECT_KEYS} sub-attributes`;
    if (!goodNames.has(key)) {
      if (!isSubAttrName(key) || isReservedName(key)) return `${name} holds ${shown(key)}, which is not an attribute name (RFC 7643 §2.1)`;
      if (goodNames.size < 1_000) goodNames.add(key);
    }
    const v = item[key];
    if (typeof v === 'object' && v !== null) return undefined;
    if (typeof v === 'string') {
      const problem = checkElementString(name, key, v);
      if (problem) return problem;
    }
  }
  return null;
}

/** A group member's strings with a length limit: each is stored with the member and shown in every read of the group. */
const MEMBER_STRINGS: ReadonlySet<string> = new Set(['value', 'display', 'displayName', 'type']);

/**
 * Length limits of a string sub-attribute (`key`) of one element of `emails` (its `value`) and `members`
 * (its `value`, `display` and `type`: a member list is read and answered whole, so its strings are bounded
 * as identifiers are, or one group of a few members could be an answer of gigabytes).
 */
function checkElementString(name: string, key: string, value: string): string | null {
  if (name === 'emails' && key === 'value' && value.length > MAX_EMAIL_LENGTH)
    return `an emails value is ${value.length} characters long; at most ${MAX_EMAIL_LENGTH} are accepted`;
  if (name === 'members' && value.length > MAX_IDENTIFIER_LENGTH && MEMBER_STRINGS.has(key))
    return `a members ${key} is ${value.length} characters long; at most ${MAX_IDENTIFIER_LENGTH} are accepted`;
  return null;
}

/** Why an extension object (`{"urn:…:enterprise:2.0:User": {…}}`) breaks the budget, or null. */
function checkExtension(urn: string, value: Json): string | null {
  // Normalisation refused non-objects for the extensions it knows; any other URN key is held to the limits
  // of an attribute, as a list or a value of it is (reserved names, keys per object, values per list).
  if (!isObject(value)) return checkValue(urn, value);
  const keys = Object.keys(value);
  if (keys.length > MAX_OBJECT_KEYS) return `${urn} has ${keys.length} attributes; at most ${MAX_OBJECT_KEYS} are accepted`;
  for (const key of keys) {
    if (!isAttrName(key) || isReservedName(key)) return `${urn} holds ${shown(key)}, which is not an attribute name (RFC 7643 §2.1)`;
    const problem = checkValue(key, value[key]!);
    if (problem) return `${urn}: ${problem}`;
  }
  return null;
}

/**
 * Checks a resource about to be stored against the budget; `previous` is the stored version it replaces
 * (PUT, PATCH), whose unchanged attributes are accepted as they are.
 */
export function checkResourceLimits(resource: JsonObject, previous?: JsonObject): Result<void> {
  const keys = Object.keys(resource);
  if (keys.length > MAX_OBJECT_KEYS && keys.length > (previous ? Object.keys(previous).length : 0)) {
    return invalid(`the resource has ${keys.length} attributes; at most ${MAX_OBJECT_KEYS} are accepted`);
  }
  for (const key of keys) {
    const value = resource[key]!;
    let problem: string | null;
    if (isUrnKey(key)) problem = isReservedName(key) ? `${shown(key)} is not an attribute name` : checkExtension(key, value);
    else if (!isAttrName(key) || isReservedName(key)) problem = `${shown(key)} is not an attribute name (RFC 7643 §2.1)`;
    else problem = checkValue(key, value);
    if (problem === null) continue;
    const unchanged = previous !== undefined && Object.hasOwn(previous, key) && jsonEqual(previous[key], value);
    if (!unchanged) return invalid(problem);
  }
  return ok(undefined);
}
