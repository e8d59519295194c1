/**
 * SCIM PATCH (RFC 7644 §3.5.2): the PatchOp envelope and the atomic application of its operations to a
 * resource. Liberal in what it accepts, following what Okta, Entra and the other IdPs send (test/scim/patch.test.ts has their shapes).
 */
import { yieldToEventLoop } from '../event-loop.js';
import { fail, ok, ScimError, scimErrors, type Result } from '../errors.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import { MAX_BODY_OBJECT_KEYS } from './limits.js';
import { deleteAttr, keyOf } from './attribute-access.js';
import { applyAtPath, valuelessCreation, type PatchState } from './patch-apply.js';
import { PatchLists } from './patch-list.js';
import { resolvePatchPath, schemaOfPath, type ResolvedPatchPath } from './patch-path.js';
import { splitCustomUrn, type ResourceTypeDef } from './schemas.js';

/** Bounds on a PATCH request. */
export interface PatchLimits {
  /** Most operations in one request; more is a 400 `invalidValue`. */
  maxOperations: number;
}

export const DEFAULT_PATCH_LIMITS: PatchLimits = { maxOperations: 1000 };

/** Deepest nesting of a JSON value accepted in an operation (SCIM values are at most 3 levels deep). */
const MAX_VALUE_DEPTH = 32;

/** One validated operation: `op` lower-cased, `path` trimmed (absent when empty), `value` plain JSON. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: Json;
}

const syntax = (detail: string) => fail(scimErrors.badRequest('invalidSyntax', detail));

/** Reads a key case-insensitively from a client object (`Operations`/`operations`, `Op`, `Path`). */
const member = (object: JsonObject, name: string): Json | undefined => {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
};

/**
 * The first of `names` (lower case) that `object` holds under two keys differing only in case (`path` and
 * `PATH`): such a request reads one way here and maybe another in a proxy or validator in front. One pass
 * over the keys, lower-casing only those as long as a name.
 */
function givenTwice(object: JsonObject, names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const key of Object.keys(object)) {
    if (!names.some((name) => name.length === key.length)) continue;
    const lower = key.toLowerCase();
    if (!names.includes(lower)) continue;
    if (seen.has(lower)) return lower;
    seen.add(lower);
  }
  return undefined;
}

const ENVELOPE_KEYS = ['schemas', 'operations'];
const OPERATION_KEYS = ['op', 'path', 'value'];

/**
 * Validates a PatchOp body (RFC 7644 §3.5.2). Lenient: a missing `schemas` is accepted (Entra's documented
 * examples omit it), but one that is present must name the PatchOp URN; op names are
 * case-insensitive and extra operation keys are ignored. Never throws.
 */
export function parsePatchRequest(body: unknown, limits: Partial<PatchLimits> = {}): Result<PatchOperation[]> {
  try {
    return parseEnvelope(body, limits);
  } catch {
    return syntax('the PATCH body could not be read'); // only reachable for hand-built objects (getters, proxies)
  }
}

function parseEnvelope(body: unknown, limits: Partial<PatchLimits>): Result<PatchOperation[]> {
  const { maxOperations } = { ...DEFAULT_PATCH_LIMITS, ...limits };
  if (!isPlainObject(body)) return syntax('the PATCH body must be a JSON object');
  const twice = givenTwice(body, ENVELOPE_KEYS);
  if (twice) return syntax(`the PATCH body gives ${twice} twice, in keys differing only in case`);
  // `schemas` is not checked, as in a POST or PUT (README, "Deliberate deviations"): clients send the PatchOp
  // URN misspelled (`…:schemas:core:2.0:PatchOp`), a resource's URN, or none, and `Operations` says what the
  // body is. A SCIM 1.1 PATCH (attributes, no `Operations`) is still refused below.
  const operations = member(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) return syntax('Operations must be a non-empty array');
  if (operations.length > maxOperations) {
    // RFC 7644 §3.12 has no code for this; `tooMany` is defined for filters only, so a too-long list is an invalid value.
    return fail(scimErrors.badRequest('invalidValue', `Operations has ${operations.length} operations; at most ${maxOperations} are allowed`));
  }
  const out: PatchOperation[] = [];
  for (const [index, raw] of operations.entries()) {
    const where = `Operations[${index}]`;
    if (!isPlainObject(raw)) return syntax(`${where}: an operation must be a JSON object`);
    const given = givenTwice(raw, OPERATION_KEYS);
    if (given) return syntax(`${where}: ${given} is given twice, in keys differing only in case`);
    const opName = member(raw, 'op');
    const op = typeof opName === 'string' ? opName.trim().toLowerCase() : undefined;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') return syntax(`${where}: op must be "add", "remove" or "replace"`);
    const operation: PatchOperation = { op };
    const path = member(raw, 'path');
    if (path !== undefined && path !== null && typeof path !== 'string') {
      return fail(scimErrors.badRequest('invalidPath', `${where}: path must be a string`));
    }
    if (typeof path === 'string' && path.trim() !== '') operation.path = path.trim();
    if (keyOf(raw, 'value') !== undefined) {
      const value = toJson(member(raw, 'value'), 0);
      if (!value.ok) return fail(prefixed(where, value.error));
      operation.value = value.value;
    } else if (op !== 'remove') {
      return syntax(`${where}: ${op} requires a value (RFC 7644 §3.5.2.1, §3.5.2.3)`);
    }
    if (op === 'remove' && operation.path === undefined) {
      return fail(scimErrors.badRequest('noTarget', `${where}: remove requires a path (RFC 7644 §3.5.2.2)`));
    }
    out.push(operation);
  }
  return ok(out);
}

/**
 * Applies operations in order to a copy of `resource` (canonical stored form) and returns the copy; the first
 * failing operation's error is returned instead, prefixed with its index (RFC 7644 §3.5.2: atomic).
 * Keeps `schemas` in step with the extensions present. Pure; never throws.
 */
export function applyPatch(type: ResourceTypeDef, resource: JsonObject, operations: PatchOperation[]): Result<JsonObject> {
  const steps = patchSteps(type, resource, operations);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The error applyPatch would answer for the first operation whose path is malformed, or null: checked
 * before the resource is read, so a bad path costs nothing whatever the resource's size.
 */
export function pathProblem(type: ResourceTypeDef, operations: PatchOperation[]): ScimError | null {
  for (const [index, operation] of operations.entries()) {
    const path = typeof operation.path === 'string' ? operation.path.trim() : '';
    if (path === '' || schemaOfPath(type, path) !== undefined) continue;
    const resolved = resolvePatchPath(type, path);
    if (!resolved.ok) return prefixed(`Operations[${index}]`, resolved.error);
  }
  return null;
}

/** Operations applied between two yields to the event loop by {@link applyPatchInSlices}. */
export const PATCH_OPERATIONS_PER_SLICE = 100;

/**
 * Scan work ({@link MAX_PATCH_SCAN} units) done between two yields by {@link applyPatchInSlices}: a few
 * operations that each scan a long list (`members[display eq "…"]` over 3,000 members is 6,000 units) end a
 * slice before a hundred do; at the budget's 20,000 units they held the loop 37-45 ms in one slice.
 */
export const PATCH_SCAN_PER_SLICE = 2_000;

/**
 * {@link applyPatch} for large requests: the same steps, with a yield to the event loop after every
 * PATCH_OPERATIONS_PER_SLICE operations or PATCH_SCAN_PER_SLICE units of scan work, whichever comes first,
 * so a 1,000-operation PATCH or one scanning long lists never holds the loop for the whole request
 * (src/event-loop.ts). One operation is never cut: its own scan is at most the whole budget.
 */
export async function applyPatchInSlices(
  type: ResourceTypeDef,
  resource: JsonObject,
  operations: PatchOperation[],
  workingCopy?: JsonObject,
): Promise<Result<JsonObject>> {
  const steps = patchSteps(type, resource, operations, workingCopy);
  let sliceOperations = 0;
  let sliceStartScan = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    const scanned = step.value;
    if (++sliceOperations >= PATCH_OPERATIONS_PER_SLICE || scanned - sliceStartScan >= PATCH_SCAN_PER_SLICE) {
      await yieldToEventLoop();
      sliceOperations = 0;
      sliceStartScan = scanned;
    }
  }
}

/**
 * Applies the operations to a copy of the resource, pausing (yield) after each one; returns the result.
 * `workingCopy`: a copy the caller hands over (a user's stored JSON parsed again costs less than half of a
 * structuredClone), written in place. Each pause yields the scan work done so far
 * ({@link PatchLists.scannedSoFar}), by which applyPatchInSlices ends its slices.
 */
function* patchSteps(
  type: ResourceTypeDef,
  resource: JsonObject,
  operations: PatchOperation[],
  workingCopy?: JsonObject,
): Generator<number, Result<JsonObject>> {
  let copy: JsonObject;
  try {
    copy = workingCopy ?? structuredClone(resource);
  } catch {
    return fail(new ScimError(500, 'the stored resource could not be copied'));
  }
  const state: PatchState = { type, resource: copy, touchedExtensions: new Set(), lists: new PatchLists(), written: new Map(), created: [], operation: 0 };
  for (const [index, operation] of operations.entries()) {
    const where = `Operations[${index}]`;
    let outcome: Result<void>;
    state.operation = index;
    try {
      state.written.set(state.resource, Object.keys(state.resource).length);
      outcome = applyOperation(state, operation);
      if (outcome.ok) outcome = widthProblem(state);
    } catch {
      outcome = fail(scimErrors.badRequest('invalidValue', 'the operation could not be applied'));
    }
    state.written.clear();
    if (!outcome.ok) return fail(prefixed(where, outcome.error));
    yield state.lists.scannedSoFar;
  }
  // Compacted first: an element a later operation removed is no longer in its list (removal only marks it).
  state.lists.compact();
  const valueless = valuelessCreation(state);
  if (!valueless.ok) return valueless;
  syncSchemas(state);
  return ok(state.resource);
}

function applyOperation(state: PatchState, operation: PatchOperation): Result<void> {
  const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
  if (op !== 'add' && op !== 'remove' && op !== 'replace') return syntax('op must be "add", "remove" or "replace"');
  let value: Json | undefined;
  if (operation.value !== undefined) {
    const clean = toJson(operation.value, 0);
    if (!clean.ok) return clean;
    value = clean.value;
  }
  if (operation.path !== undefined && operation.path !== null && typeof operation.path !== 'string') {
    return fail(scimErrors.badRequest('invalidPath', 'path must be a string'));
  }
  const path = typeof operation.path === 'string' && operation.path.trim() !== '' ? operation.path.trim() : undefined;
  if (path === undefined) {
    if (op === 'remove') return fail(scimErrors.badRequest('noTarget', 'remove requires a path (RFC 7644 §3.5.2.2)'));
    if (value === undefined) return syntax(`${op} requires a value`);
    // RFC 7644 §3.5.2.1 / §3.5.2.3: no path means the value holds the attributes to add or replace.
    return applyWithoutPath(state, op, value);
  }
  // A custom URN path is read as the same key path-less would be (customUrnTarget): a whole extension the
  // resource carries, or, with an object to add, one it does not carry yet.
  const custom = /^urn:/i.test(path) && isUnknownUrn(state, path) ? customUrnTarget(state, path, op === 'remove' ? null : (value ?? null)) : undefined;
  const schema = schemaOfPath(state.type, path) ?? (typeof custom === 'string' ? custom : undefined);
  if (schema !== undefined) {
    // A path naming a whole schema (`urn:…:enterprise:2.0:User`): not in the RFC grammar, but unambiguous.
    if (op !== 'remove') return applyWithoutPath(state, op, { [schema]: value ?? null });
    return clearExtension(state, schema);
  }
  const resolved = custom !== undefined && typeof custom !== 'string' ? custom : resolvePatchPath(state.type, path);
  if (!resolved.ok) return resolved;
  const readOnly = readOnlyTarget(resolved.value, op);
  if (readOnly) return fail(readOnly);
  return applyAtPath(state, op, resolved.value, value);
}

/**
 * An add or replace whose path names a readOnly attribute (`groups`, `meta`, `meta.lastModified`): RFC 7644
 * §3.5.2 requires an error, not a 204 that changed nothing. `id` is left to applyAtPath, which accepts the
 * resource's own id (Okta's rename carries it). A path-less value's readOnly keys are ignored, as in a PUT.
 */
function readOnlyTarget(path: ResolvedPatchPath, op: 'add' | 'remove' | 'replace'): ScimError | null {
  if (op === 'remove' || path.def?.mutability !== 'readOnly' || path.def.name === 'id') return null;
  const how = path.def.name === 'groups' ? "; a user's groups change through the members of each group" : '';
  return scimErrors.badRequest('mutability', `${path.def.name} is readOnly and cannot be set by a PATCH (RFC 7644 §3.5.2)${how}`);
}

/**
 * A path-less add/replace. Keys may be plain names, dotted sub-attributes (`name.givenName`), URN-qualified
 * attributes or whole extension objects keyed by URN (Entra). Each key is applied as if it were the path:
 * a `replace` of `{"name": {"givenName": "B"}}` keeps `familyName`, as `path: "name"` does (RFC 7644
 * §3.5.2.3: sub-attributes not given are left unchanged). SailPoint sends one such operation per changed
 * sub-attribute, and Ping's SCIM SDK diffs down to the changed leaves: replacing whole lost the rest.
 */
function applyWithoutPath(state: PatchState, op: 'add' | 'replace', value: Json): Result<void> {
  if (!isObject(value)) return fail(scimErrors.badRequest('invalidValue', `${op} without a path needs an object value`));
  for (const [key, item] of Object.entries(value)) {
    if (key.toLowerCase() === 'schemas') continue; // recomputed by the server
    const schema = schemaOfPath(state.type, key);
    if (schema === state.type.schema.id) {
      const core = applyWithoutPath(state, op, item); // `{"urn:…:core:2.0:User": {…}}`
      if (!core.ok) return core;
      continue;
    }
    const custom = /^urn:/i.test(key) && isUnknownUrn(state, key) ? customUrnTarget(state, key, item) : undefined;
    const extension = schema ?? (typeof custom === 'string' ? custom : undefined);
    if (extension !== undefined) {
      const applied = applyExtensionObject(state, op, extension, item, schema === undefined);
      if (!applied.ok) return applied;
      continue;
    }
    const path = custom && typeof custom !== 'string' ? custom : resolvePatchPath(state.type, key);
    if (!path.ok) return path;
    const outcome = applyAtPath(state, op, path.value, item);
    if (!outcome.ok) return outcome;
  }
  return ok(undefined);
}

/** Whether a key is a URN no schema of the type starts (so it is neither an extension nor a qualified attribute). */
function isUnknownUrn(state: PatchState, key: string): boolean {
  const lower = key.toLowerCase();
  return ![state.type.schema, ...state.type.extensions].some((s) => lower.startsWith(s.id.toLowerCase()));
}

/**
 * The key under which the resource carries a custom extension whose URN is `text` (matched
 * case-insensitively), if it does: such a text names the whole extension.
 */
function customExtensionKey(state: PatchState, text: string): string | undefined {
  return /^urn:/i.test(text) && isUnknownUrn(state, text) ? keyOf(state.resource, text) : undefined;
}

/**
 * A path-less key under a URN no schema of the type has: a custom extension (Entra, Okta and OneLogin send
 * them as `{"<urn>": {…}}` or `{"<urn>:<attribute>": …}`). It names the whole extension when the resource
 * carries that URN, or when its value is an object and the resource carries no extension the key could
 * qualify an attribute of: answers the URN to keep it under (the resource's spelling when it has one).
 * Otherwise it is one attribute, after the key's last ":": answers its path. The extension is kept under its
 * URN as POST keeps it, so filters and reads find what PATCH wrote.
 */
function customUrnTarget(state: PatchState, key: string, item: Json): string | Result<ResolvedPatchPath> {
  const whole = customExtensionKey(state, key);
  if (whole !== undefined) return whole;
  const split = splitCustomUrn(key);
  const container = split === null ? undefined : customExtensionKey(state, split.urn);
  // A value filter (`urn:x:ext:emails[type eq "work"]`) names an attribute, never an extension's URN.
  if (container === undefined && isObject(item) && !key.includes('[')) return key;
  return resolvePatchPath(state.type, container !== undefined ? `${container}:${split!.rest}` : key);
}

/**
 * `{"urn:…:enterprise:2.0:User": {…}}`, or a custom extension's (`custom`: its keys are kept as sent, no
 * schema names them): each attribute it gives is added or replaced as with its own path, the extension's
 * others kept; `null`, `""`, or `{}` to replace, clears the extension.
 */
function applyExtensionObject(state: PatchState, op: 'add' | 'replace', schema: string, item: Json, custom = false): Result<void> {
  if (item === null || item === '') return clearExtension(state, schema);
  if (!isObject(item)) return fail(scimErrors.badRequest('invalidValue', `${schema} must be an object`));
  if (op === 'replace' && Object.keys(item).length === 0) return clearExtension(state, schema);
  state.touchedExtensions.add(schema);
  for (const [key, sub] of Object.entries(item)) {
    const path: Result<ResolvedPatchPath> = custom
      ? ok({ schema, attribute: key, def: undefined, subDef: undefined })
      : resolvePatchPath(state.type, `${schema}:${key}`);
    if (!path.ok) return path;
    const outcome = applyAtPath(state, op, path.value, sub);
    if (!outcome.ok) return outcome;
  }
  return ok(undefined);
}

function clearExtension(state: PatchState, schema: string): Result<void> {
  deleteAttr(state.resource, schema);
  state.touchedExtensions.add(schema);
  return ok(undefined);
}

/**
 * Refuses an operation that made an object of the working copy wider than a request body's objects may be
 * (MAX_BODY_OBJECT_KEYS) and wider than it was: each operation's value is within that bound, but many
 * operations could add up to an object of 70,000 keys that every later step (schemas, normalisation, the
 * resource limits) would walk, holding the event loop for seconds. Measured on the objects the operation
 * wrote into, so an operation costs about the width of what it touched.
 */
function widthProblem(state: PatchState): Result<void> {
  for (const [object, before] of state.written) {
    const keys = Object.keys(object).length;
    if (keys > MAX_BODY_OBJECT_KEYS && keys > before) {
      return fail(
        scimErrors.badRequest('invalidValue', `the patched resource would hold an object with ${keys} keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`),
      );
    }
  }
  return ok(undefined);
}

/**
 * Drops emptied extensions the request touched, with their URN; lists the URN of every extension present
 * (RFC 7643 §3): each extension of the type, and each custom one the request wrote to.
 */
function syncSchemas(state: PatchState): void {
  const { resource, type } = state;
  const current = resource.schemas;
  const schemas: Json[] = Array.isArray(current) ? [...current] : [type.schema.id];
  // Lower-cased URNs listed, so each extension costs one lookup (a request may touch hundreds).
  const listed = new Set(schemas.map((s) => (typeof s === 'string' ? s.toLowerCase() : s)));
  const has = (urn: string) => listed.has(urn.toLowerCase());
  const dropped = new Set<string>();
  const known = new Set(type.extensions.map((e) => e.id));
  const custom = [...state.touchedExtensions].filter((urn) => !known.has(urn));
  for (const urn of [...known, ...custom]) {
    const key = keyOf(resource, urn);
    const value = key === undefined ? undefined : resource[key];
    const present = isObject(value) ? Object.keys(value).length > 0 : value !== undefined;
    if (present && isObject(value) && !has(urn)) {
      schemas.push(key ?? urn);
      listed.add((key ?? urn).toLowerCase());
    }
    if (!present && state.touchedExtensions.has(urn)) {
      if (key !== undefined) deleteAttr(resource, key);
      dropped.add(urn.toLowerCase());
    }
  }
  // The first listing of each dropped URN goes, as one pass over the list.
  resource.schemas = schemas.filter((s) => typeof s !== 'string' || !dropped.delete(s.toLowerCase()));
}

/** The error with `Operations[i]: ` before its detail. */
function prefixed(where: string, error: ScimError): ScimError {
  return new ScimError(error.status, `${where}: ${error.message}`, error.scimType, error.headers);
}

const isPlainObject = (value: unknown): value is JsonObject => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * A clean copy of a client value as plain JSON: only plain objects, arrays, strings, finite numbers, booleans
 * and null; `__proto__` keys and deep nesting are refused (400 `invalidValue`), so nothing can pollute objects.
 */
function toJson(value: unknown, depth: number): Result<Json> {
  if (depth > MAX_VALUE_DEPTH) return fail(scimErrors.badRequest('invalidValue', `value is nested deeper than ${MAX_VALUE_DEPTH} levels`));
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return ok(value);
  if (typeof value === 'number') {
    return Number.isFinite(value) ? ok(value) : fail(scimErrors.badRequest('invalidValue', 'value holds a non-finite number'));
  }
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = toJson(value[i], depth + 1);
      if (!item.ok) return item;
      out.push(item.value);
    }
    return ok(out);
  }
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return fail(scimErrors.badRequest('invalidValue', 'the attribute name "__proto__" is not allowed'));
      const item = toJson(value[key], depth + 1);
      if (!item.ok) return item;
      out[key] = item.value;
    }
    return ok(out);
  }
  return fail(scimErrors.badRequest('invalidValue', 'value is not JSON'));
}
