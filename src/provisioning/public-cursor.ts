/**
 * The event cursors the app sees name the log that gave them out (docs/events.md §Reading with a cursor):
 * `<ms>-<seq>[.<index>]~<log>`, where `<log>` is a tag of the connection whose log it is. A customer's log
 * starts again when its connection is deleted and created again; a cursor from the old log is then read as
 * standing before the new log's first write. Without the tag that was decided by time alone, and a cursor
 * stamped by an instance whose clock ran ahead (or before the clock was stepped back) was taken as a place
 * in the new log: every new event up to its time was skipped without a word (audit 26).
 *
 * Cursors without a tag (given out before 2026-12-06) are still read as before, by their time.
 */
import { createHash } from 'node:crypto';

/** A store cursor before every write of a log: reading after it expires once the log dropped any write. */
export const BEFORE_FIRST_WRITE = '0-0';

/** What the app may pass as `after`: a store cursor, with or without its log's tag. */
export const PUBLIC_CURSOR = /^(\d{1,15}-\d{1,15}(?:\.\d{1,9})?)(?:~([0-9a-f]{12}))?$/;

/** The tag of a connection's log: 12 hex digits of a hash of its id (ids are not secret; a hash keeps tags one length). */
export function logTag(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('hex').slice(0, 12);
}

/** A store cursor as the app sees it. */
export const publicCursor = (storeCursor: string, tag: string): string => `${storeCursor}~${tag}`;

/**
 * The store cursor to read after, for a public cursor and the log being read: its own place when it names
 * this log or no log, else BEFORE_FIRST_WRITE. Null for text no cursor has.
 */
export function storeCursorOf(cursor: string, tag: string): { storeCursor: string; foreign: boolean } | null {
  const match = PUBLIC_CURSOR.exec(cursor);
  if (!match) return null;
  const foreign = match[2] !== undefined && match[2] !== tag;
  return { storeCursor: foreign ? BEFORE_FIRST_WRITE : match[1]!, foreign };
}
