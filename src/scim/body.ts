/**
 * Request bodies: the SCIM routes read and parse their own (the app mounts no body parser for them), with
 * a size limit (413) and strict UTF-8 (RFC 7644 §3.8). Both `application/scim+json` and `application/json`
 * are accepted (Okta sends both types); a charset parameter is ignored, the body is always read as UTF-8.
 */
import type { Readable } from 'node:stream';
import { ScimError, scimErrors } from '../errors.js';
import { MAX_BODY_ARRAY_ITEMS, MAX_BODY_OBJECT_KEYS } from './limits.js';
import { PHASED_BODY_BYTES, yieldToEventLoop } from '../event-loop.js';

/** The 413 of a body over `limit` bytes. */
export const tooLarge = (limit: number): ScimError => new ScimError(413, `the request body exceeds the limit of ${limit} bytes`);

/**
 * Reads a Node request stream up to `limit` bytes. A larger body is a 413 and nothing more of it is read:
 * the stream is paused, and `settleUnreadBody` (src/scim/mount.ts) then closes the connection after the
 * answer, so a client cannot make the server take in an endless body after its 413. With `deadlineMs`, a
 * body not complete by then is a 408, what came of it is dropped, and the caller closes the connection
 * (the SAML ACS's adapters answer it with `Connection: close`).
 */
export function readBody(stream: Readable, limit: number, declaredLength?: string, deadlineMs?: number): Promise<Buffer | ScimError> {
  if (declaredLength !== undefined && Number(declaredLength) > limit) {
    stream.pause();
    return Promise.resolve(tooLarge(limit));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // The stream lives as long as its request: listeners left on it kept the chunks, and through `resolve`
    // the body, as long (twice the body's bytes for every request waiting on a group's lease; an audit of
    // 2026-12). So the read leaves none behind, but a no-op 'error' listener, as the stream had one before.
    const finish = (result: Buffer | ScimError) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.on('error', ignoreLateError);
      chunks.length = 0;
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onError = () => finish(scimErrors.badRequest('invalidSyntax', 'the request body could not be read'));
    const deadline =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            stream.pause();
            finish(new ScimError(408, `the request body did not arrive within ${Math.ceil(deadlineMs / 1000)} s`));
          }, deadlineMs).unref();
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** An error of a request stream after its body was read or refused: its request is answered already. */
const ignoreLateError = () => {};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'application/scim+json' || type.endsWith('+json');
}

/**
 * Turns the body an adapter got into a JSON value, or the refusal. A value already parsed by a body parser
 * mounted before scim-sso is shape-checked and taken as is; raw bytes must be UTF-8 JSON. A body longer than
 * PHASED_BODY_BYTES is measured, parsed and shape-checked in phases with a yield between them (each takes
 * milliseconds on a large body), so other requests run in between.
 */
export async function parseJsonBody(body: unknown, contentType: string | undefined): Promise<unknown> {
  const large = (Buffer.isBuffer(body) || typeof body === 'string') && body.length > PHASED_BODY_BYTES;
  const text = prescanJsonText(body, contentType);
  if (text instanceof ScimError) return text;
  if (!(text instanceof PrescannedText)) return text.checked;
  if (large) await yieldToEventLoop();
  const parsed = parsePrescanned(text);
  if (parsed instanceof ScimError) return parsed;
  if (large) await yieldToEventLoop();
  const checked = shapeChecked(parsed.value, parsed.textKeys);
  if (large && !(checked instanceof ScimError)) await yieldToEventLoop();
  return checked;
}

/** Body text ready for JSON.parse, with the keys its text spells when the prescan already counted them. */
class PrescannedText {
  constructor(
    readonly text: string,
    readonly textKeys?: number,
  ) {}
}

/**
 * Decoding and measuring, the phase of {@link parseJsonBody} before JSON.parse: the text to parse, a value
 * a body parser mounted before scim-sso already produced (shape-checked), or the refusal.
 */
function prescanJsonText(body: unknown, contentType: string | undefined): PrescannedText | { checked: unknown } | ScimError {
  if (!isJsonMediaType(contentType)) {
    return new ScimError(415, 'send the body as application/scim+json or application/json');
  }
  if (body === undefined || body === null) return scimErrors.badRequest('invalidSyntax', 'a JSON request body is required');
  let text: string;
  if (Buffer.isBuffer(body)) {
    try {
      text = utf8.decode(body);
    } catch {
      return scimErrors.badRequest('invalidSyntax', 'the request body is not valid UTF-8');
    }
  } else if (typeof body === 'string') {
    text = body;
  } else {
    // Parsed by a body parser mounted before scim-sso: apply the same shape checks.
    const problem = checkShape(body);
    return problem ? scimErrors.badRequest('invalidValue', problem) : { checked: body };
  }
  if (text.trim() === '') return scimErrors.badRequest('invalidSyntax', 'a JSON request body is required');
  // Measured in the text, before JSON.parse builds a 90,000-key object or 500,000 nested arrays from a 1 MB
  // body (hundreds of ms); a body under PRESCAN_BYTES parses in a few ms whatever its shape, and is checked
  // after parsing.
  if (text.length > PRESCAN_BYTES) {
    const shape = textShape(text);
    if (shape.depth > MAX_BODY_DEPTH) return scimErrors.badRequest('invalidValue', tooDeep);
    if (shape.widest > MAX_BODY_OBJECT_KEYS) return scimErrors.badRequest('invalidValue', tooWide(shape.widest));
    if (shape.items > MAX_BODY_ARRAY_ITEMS) return scimErrors.badRequest('invalidValue', tooManyItems(shape.items));
    return new PrescannedText(text, shape.keys);
  }
  return new PrescannedText(text);
}

/** JSON.parse of text {@link prescanJsonText} let through, with the keys its text spells (counted here unless the prescan did). */
function parsePrescanned({ text, textKeys }: PrescannedText): { value: unknown; textKeys: number } | ScimError {
  try {
    return { value: JSON.parse(text) as unknown, textKeys: textKeys ?? textShape(text).keys };
  } catch {
    return scimErrors.badRequest('invalidSyntax', 'the request body is not valid JSON');
  }
}

/**
 * The last phase of {@link parseJsonBody}: the value if its shape passes {@link checkShape}, else a 400.
 * `textKeys` (the keys its text spells): JSON.parse keeps the last of a key given twice in one object, so
 * fewer keys parsed than spelt means a repeated key, refused as a case-variant one is (a proxy or validator
 * in front may read the other value).
 */
function shapeChecked(value: unknown, textKeys?: number): unknown | ScimError {
  const counted = { items: 0, keys: 0 };
  const problem = shapeProblem(value, 0, counted);
  if (problem) return scimErrors.badRequest('invalidValue', problem);
  if (textKeys !== undefined && counted.keys < textKeys) {
    return scimErrors.badRequest('invalidValue', 'an object of the body names the same key twice; give each attribute once');
  }
  return value;
}

/** Bodies longer than this have their nesting and objects' keys measured before parsing (about 3 ms per MB). */
const PRESCAN_BYTES = 64 * 1024;

/** Deepest nesting of arrays and objects accepted in a body (SCIM resources need fewer than 10 levels). */
export const MAX_BODY_DEPTH = 64;

const tooWide = (keys: number) => `the body holds an object with ${keys} keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`;
const tooDeep = `the body is nested deeper than ${MAX_BODY_DEPTH} levels`;
const tooManyItems = (items: number) =>
  `the body holds ${items} array items; at most ${MAX_BODY_ARRAY_ITEMS} are accepted in one request (send a longer member list in several PATCH requests)`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/**
 * The shape of JSON text in one pass, strings skipped with indexOf: `widest`, the most keys (colons outside
 * strings) of any object, a repeated key counted each time; `keys`, those of all objects together; `depth`, the deepest nesting of arrays and
 * objects; `items`, the items of all arrays together (as {@link checkShape} counts them). The pass stops
 * once `depth` passes MAX_BODY_DEPTH (so it keeps at most that many open levels). Text that is not JSON
 * gets some figures; JSON.parse refuses it after.
 */
export function textShape(text: string): { widest: number; depth: number; items: number; keys: number } {
  const open: number[] = []; // per open object its keys so far; -1 for an array
  let widest = 0;
  let keys = 0;
  let depth = 0;
  let items = 0;
  let arrayOpened = false; // the last significant character opened an array: the next one says if it is empty
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (arrayOpened && c !== SPACE && c !== TAB && c !== LF && c !== CR) {
      arrayOpened = false;
      if (c !== CLOSE_ARRAY) items++;
    }
    if (c === QUOTE) {
      // Skip to the closing quote: one not preceded by an odd number of backslashes.
      for (;;) {
        const end = text.indexOf('"', i + 1);
        if (end === -1) return { widest, depth, items, keys };
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === COLON) {
      const top = open.length - 1;
      if (top >= 0 && open[top]! >= 0) {
        keys++;
        if (++open[top]! > widest) widest = open[top]!;
      }
    } else if (c === COMMA) {
      if (open[open.length - 1] === -1) items++;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      open.push(c === OPEN_OBJECT ? 0 : -1);
      arrayOpened = c === OPEN_ARRAY;
      if (open.length > depth) {
        depth = open.length;
        if (depth > MAX_BODY_DEPTH) return { widest, depth, items, keys };
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) open.pop();
  }
  return { widest, depth, items, keys };
}

/**
 * Refuses what would break later stages: nesting deeper than MAX_BODY_DEPTH (recursive serialisation would
 * overflow the stack), strings or keys with lone UTF-16 surrogates (`"\ud800"` is valid JSON but not valid
 * UTF-8: Redis would store U+FFFD instead), numbers JSON cannot write back (`1e999` parses as Infinity,
 * which `JSON.stringify` turns into null), and objects wider than MAX_BODY_OBJECT_KEYS, before any stage
 * walks their keys one by one, and more than MAX_BODY_ARRAY_ITEMS array items in all, before any stage works
 * on them one by one. The walk recurses at most MAX_BODY_DEPTH calls deep and allocates nothing per value.
 */
export function checkShape(root: unknown): string | null {
  const counted = { items: 0, keys: 0 };
  return shapeProblem(root, 0, counted);
}

function shapeProblem(value: unknown, depth: number, counted: { items: number; keys: number }): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : 'the body holds a string with a lone UTF-16 surrogate';
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'the body holds a number too large to represent';
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_BODY_DEPTH) return tooDeep;
  if (Array.isArray(value)) {
    counted.items += value.length;
    if (counted.items > MAX_BODY_ARRAY_ITEMS) return tooManyItems(counted.items);
    for (let i = 0; i < value.length; i++) {
      const problem = shapeProblem(value[i], depth + 1, counted);
      if (problem !== null) return problem;
    }
    return null;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_BODY_OBJECT_KEYS) return tooWide(keys.length);
  counted.keys += keys.length;
  // An own "__proto__" key (JSON.parse makes one) shadows the accessor, so indexing reads the own value.
  for (const key of keys) {
    if (!key.isWellFormed()) return 'the body holds a key with a lone UTF-16 surrogate';
    const problem = shapeProblem((value as Record<string, unknown>)[key], depth + 1, counted);
    if (problem !== null) return problem;
  }
  return null;
}
