/**
 * Large response bodies, built and written without one long step. A body of many megabytes (a group of
 * 100,000 members is 13 MB, a page of heavy users up to 8 MB) built as one string and handed to the socket
 * is joined, measured for Content-Length and encoded to UTF-8 in one synchronous step: 100–300 ms of event
 * loop at 13 MB, for every tenant. Instead the handler renders such a body as pieces of text, `joinBody`
 * encodes them part by part with a yield between parts, and the adapters write the parts as they are
 * (`writeBody`, Content-Length from the parts' lengths). Small bodies, nearly all, stay one string.
 */
import type { ServerResponse } from 'node:http';
import { yieldToEventLoop } from '../event-loop.js';

/** A response body: one string, or a large body's UTF-8 parts in order. */
export type ScimBody = string | readonly Buffer[];

/** Bodies up to this many characters stay one string; longer ones are encoded in parts of about this size. */
export const BODY_PART_CHARS = 256 * 1024;

/**
 * The body made of `pieces` (in order): one string when short, else UTF-8 parts of about BODY_PART_CHARS
 * each, encoded one at a time with a yield after each.
 */
export async function joinBody(pieces: readonly string[]): Promise<ScimBody> {
  let chars = 0;
  for (const piece of pieces) chars += piece.length;
  if (chars <= BODY_PART_CHARS) return pieces.join('');
  const parts: Buffer[] = [];
  let run: string[] = [];
  let runChars = 0;
  for (const piece of pieces) {
    run.push(piece);
    runChars += piece.length;
    if (runChars >= BODY_PART_CHARS) {
      parts.push(Buffer.from(run.join('')));
      run = [];
      runChars = 0;
      await yieldToEventLoop();
    }
  }
  if (run.length > 0) parts.push(Buffer.from(run.join('')));
  return parts;
}

/** The body's length in bytes (Content-Length) when it is in parts. */
export function partsLength(parts: readonly Buffer[]): number {
  let bytes = 0;
  for (const part of parts) bytes += part.length;
  return bytes;
}

/** The body's text, for code that reads a response in process (tests, tools). */
export function bodyText(body: ScimBody | undefined): string | undefined {
  return body === undefined || typeof body === 'string' ? body : Buffer.concat(body).toString('utf8');
}

/**
 * How long a body in parts may take to reach a client (about 110 KB/s for the largest, 13 MB). Node queues
 * what the socket cannot take yet, and has no deadline of its own for an answer (`server.timeout` is 0): a
 * client that never reads kept its answer in memory (10 such of 8 MB held 68 MB for as long as they
 * stayed; an audit of 2026-12-06). Past it the connection is destroyed.
 */
export const BODY_SEND_MS = 120_000;

/** Destroys the connection of `res` if its answer has not gone out within {@link BODY_SEND_MS}. */
function sendWithin(res: ServerResponse): void {
  const deadline = setTimeout(() => {
    if (!res.writableFinished) res.destroy();
  }, BODY_SEND_MS).unref();
  res.once('close', () => clearTimeout(deadline));
}

/**
 * Ends `res` with `body`. Parts go to the socket one at a time, the next once the socket has taken the last
 * (its 'drain'): handed over all at once, Node wrote them in one system call that copied the whole body (13
 * MB: 34-46 ms of event loop, an audit of 2026-12-06). They are encoded already, so writing them is no work
 * of the event loop's otherwise. A client that does not read keeps the rest of the parts waiting, for at
 * most {@link BODY_SEND_MS}. `sent` (the response's, src/scim/http.ts) is called once the connection is
 * done with the answer: written, or closed.
 */
export function writeBody(res: ServerResponse, body: ScimBody | undefined, sent?: () => void): void {
  // A client that left while the answer was built has closed `res` already: 'close' will not come again.
  if (sent) {
    if (res.destroyed) sent();
    else res.once('close', sent);
  }
  if (body === undefined || typeof body === 'string') {
    // Node sets Content-Length from the body it sends, except in an answer to HEAD (no body is sent) and to
    // an HTTP/1.0 client (it closes the connection instead); Koa sets it in both, and so does this.
    if (body !== undefined && (res.req?.method === 'HEAD' || res.req?.httpVersionMinor === 0)) res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
    return;
  }
  // A client gone before its answer was built: nothing to write, and nothing may hold the parts. Its 'close'
  // has come already, so a deadline or listener set now would keep them for BODY_SEND_MS: 20 GETs of a
  // 3.7 MB group, each left at once, held 67 MB for two minutes (a soak audit, 2026-12-07).
  if (res.destroyed) return;
  res.setHeader('Content-Length', partsLength(body));
  sendWithin(res);
  writeParts(res, body);
}

/** Writes `parts` to `res` in order, each once the socket has drained the last, then ends it; stops if `res` closes. */
function writeParts(res: ServerResponse, parts: readonly Buffer[]): void {
  let next = 0;
  const onDrain = () => writeSome();
  const stop = () => res.off('drain', onDrain);
  const writeSome = () => {
    while (next < parts.length) {
      if (res.destroyed) return stop();
      if (!res.write(parts[next++]!)) return;
    }
    stop();
    res.off('close', stop);
    res.end();
  };
  res.on('drain', onDrain);
  res.once('close', stop);
  writeSome();
}
