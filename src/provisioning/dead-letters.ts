/**
 * Dead letters of consumer groups: events whose handler kept failing, parked with the last error so the
 * group's other events go on (docs/events.md). Listed per group (optionally one customer's), replayed one
 * by one through a handler the app passes, removed once it succeeds.
 */
import type { StoredDeadLetter } from '../store/event-consumers.js';
import type { ProvisioningEvent } from './event.js';

/** A parked event. */
export interface DeadLetter {
  /** Unique within the group: the connection and the event's cursor. */
  id: string;
  group: string;
  event: ProvisioningEvent;
  /** The last failure's message. */
  error: string;
  attempts: number;
  /** When it was parked (ISO 8601). */
  failedAt: string;
}

/** What a handler threw, as text; never throws itself (a thrown value may refuse to become a string). */
function describeError(error: unknown): string {
  try {
    return (error instanceof Error ? String(error.message) : String(error)).slice(0, 2000);
  } catch {
    return 'an error that cannot be shown as text';
  }
}

/** The stored form of an event that failed `attempts` times, the last time with `error`. */
export function deadLetterOf(group: string, event: ProvisioningEvent, error: unknown, attempts: number): StoredDeadLetter {
  const letter: DeadLetter = {
    id: `${event.connectionId}:${event.cursor}`,
    group,
    event,
    error: describeError(error),
    attempts,
    failedAt: new Date().toISOString(),
  };
  return { id: letter.id, json: JSON.stringify(letter) };
}

/** A stored dead letter read back (written by {@link deadLetterOf}). */
export function parseDeadLetter(stored: StoredDeadLetter): DeadLetter {
  return JSON.parse(stored.json) as DeadLetter;
}
