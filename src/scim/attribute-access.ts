/**
 * Attribute names are data, never object keys to trust (issue 10). Everything in the SCIM layer that
 * reads or writes a resource by a client-supplied attribute name goes through this module:
 *
 * - names are checked against the RFC 7643 §2.1 grammar (ATTRNAME = ALPHA *(nameChar), nameChar = "-" /
 *   "_" / DIGIT / ALPHA), plus `$ref` for sub-attributes (RFC 7643 §2.4) and URN keys for extensions;
 * - lookups are case-insensitive (RFC 7643 §2.1) over OWN properties only: a name never reaches
 *   `Object.prototype` (`__proto__`, `constructor`, `hasOwnProperty`, …), whatever it is;
 * - the case-insensitive fallback uses a lower-cased key map built once per object (and kept up to date
 *   by {@link setAttr} / {@link deleteAttr}), so N lookups on an object of W keys cost O(N + W), not O(N·W):
 *   an object read through {@link keyOf} is written through those two only (a key written directly is
 *   missed by later lookups once the object is wider than 8 keys);
 * - names of `Object.prototype` members (and `prototype`) are reserved: they match nothing when read and are refused when
 *   written (src/scim/resource-limits.ts), so no stored resource ever shadows them.
 */
import { MAX_NAME_LENGTH } from './limits.js';
import type { Json, JsonObject } from './normalize.js';

const ATTR_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A URN used as a key (an extension, `urn:…:enterprise:2.0:User`): `urn:` and colon-separated segments. */
const URN_KEY = /^urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[A-Za-z0-9._~-]+)+$/i;

/** RFC 7643 §2.1 ATTRNAME, at most {@link MAX_NAME_LENGTH} characters. */
export const isAttrName = (name: string): boolean => name.length <= MAX_NAME_LENGTH && ATTR_NAME.test(name);

/** A sub-attribute name: ATTRNAME or `$ref` (members, groups and manager carry `$ref`). */
export const isSubAttrName = (name: string): boolean => name === '$ref' || isAttrName(name);

/** A schema URN written as a key (`{"urn:…:enterprise:2.0:User": {…}}`). */
export const isUrnKey = (name: string): boolean => name.length <= MAX_NAME_LENGTH && URN_KEY.test(name);

export { isReservedName } from './reserved-names.js';

/** Objects at most this wide are scanned; wider ones get a cached lower-cased key map. */
const SCAN_WIDTH = 8;
const lowerKeyMaps = new WeakMap<object, Map<string, string>>();

function lowerKeyMap(object: JsonObject): Map<string, string> {
  let map = lowerKeyMaps.get(object);
  if (!map) {
    map = new Map();
    for (const key of Object.keys(object)) {
      const lower = key.toLowerCase();
      if (!map.has(lower)) map.set(lower, key);
    }
    lowerKeyMaps.set(object, map);
  }
  return map;
}

/** The own key of `object` spelling `name` case-insensitively (the exact spelling first), or undefined. */
export function keyOf(object: JsonObject, name: string): string | undefined {
  if (Object.hasOwn(object, name)) return name;
  const lower = name.toLowerCase();
  const cached = lowerKeyMaps.get(object);
  if (cached === undefined) {
    const keys = Object.keys(object);
    if (keys.length <= SCAN_WIDTH) return keys.find((k) => k.toLowerCase() === lower);
  }
  const found = lowerKeyMap(object).get(lower);
  if (found === undefined || Object.hasOwn(object, found)) return found;
  // Changed behind our back (a key deleted directly): rebuild once.
  lowerKeyMaps.delete(object);
  return lowerKeyMap(object).get(lower);
}

/** The value of an own attribute, case-insensitively; never anything inherited. */
export function getAttr(object: JsonObject, name: string): Json | undefined {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
}

/** Whether a value is a plain JSON object (not null, not an array). */
const isObjectValue = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** {@link getAttr} on something that may not be an object: undefined unless it is one. */
export function getAttrOf(holder: unknown, name: string): Json | undefined {
  return isObjectValue(holder) ? getAttr(holder, name) : undefined;
}

/** Removes the attribute however it is spelt. */
export function deleteAttr(object: JsonObject, name: string): void {
  const key = keyOf(object, name);
  if (key === undefined) return;
  delete object[key];
  const map = lowerKeyMaps.get(object);
  if (map && map.get(key.toLowerCase()) === key) lowerKeyMaps.delete(object);
}

/**
 * Writes `value` under exactly `name`, dropping a differently-cased spelling; `undefined` deletes. Always
 * an own data property: even a `__proto__` name cannot reach the prototype (callers refuse such names).
 */
export function setAttr(object: JsonObject, name: string, value: Json | undefined): void {
  const existing = keyOf(object, name);
  if (existing !== undefined && existing !== name) deleteAttr(object, existing);
  if (value === undefined) {
    if (existing === name) deleteAttr(object, name);
    return;
  }
  if (name === '__proto__') Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
  else object[name] = value;
  const map = lowerKeyMaps.get(object);
  if (map) map.set(name.toLowerCase(), name);
}
