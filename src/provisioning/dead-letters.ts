/**
 * Dead letters of consumer groups: events whose handler kept failing, parked with the last error so the
 * group's other events go on (docs/events.md). Listed per group (optionally one customer's), replayed one
 * by one through a handler the app passes, removed once it succeeds.
 *
 * A letter keeps its event's resource up to MAX_LETTER_RESOURCE_CHARS of JSON. The events of one write share
 * their resource in the log, but each letter stores its own copy: a handler that failed the 1,000 member
 * events of one PATCH to a group holding a 900 KB attribute parked 900 MB (a hostile-tenant probe,
 * 2026-12-07). A larger resource is left out of the letter (`resourceLeftOut`), and a replay hands the
 * handler the resource as it is then.
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
  /**
   * True when the event's resource was larger than MAX_LETTER_RESOURCE_CHARS and is not kept: `event.resource`
   * is null here, and replayDeadLetter reads the resource as it is at the replay (null if deleted since).
   */
  resourceLeftOut?: true;
}

/** Most characters of JSON of an event's resource a dead letter keeps. */
export const MAX_LETTER_RESOURCE_CHARS = 64 * 1024;

/** The JSON length of resources already measured: the events of one write share one frozen resource object. */
const measured = new WeakMap<object, number>();

function resourceChars(resource: Record<string, unknown>): number {
  let chars = measured.get(resource);
  if (chars === undefined) measured.set(resource, (chars = JSON.stringify(resource).length));
  return chars;
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
  const leftOut = event.resource !== null && resourceChars(event.resource) > MAX_LETTER_RESOURCE_CHARS;
  const letter: DeadLetter = {
    id: `${event.connectionId}:${event.cursor}`,
    group,
    event: leftOut ? { ...event, resource: null } : event,
    error: describeError(error),
    attempts,
    failedAt: new Date().toISOString(),
  };
  if (leftOut) letter.resourceLeftOut = true;
  return { id: letter.id, json: JSON.stringify(letter) };
}

/** A stored dead letter read back (written by {@link deadLetterOf}). */
export function parseDeadLetter(stored: StoredDeadLetter): DeadLetter {
  return JSON.parse(stored.json) as DeadLetter;
}
