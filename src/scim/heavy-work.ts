/**
 * Requests of one SCIM connection that read much at once: a scan (a filter or sortBy no index answers), a
 * page of heavy resources, a group's long member list. Each holds what it reads and the answer it builds (a
 * 100,000-member group is a 13 MB answer), and an answer in parts stays in memory until the client has read
 * it. The rate limit counts requests, not their weight: 40 scans of one tenant's 125 MB connection ran the
 * process out of heap, and 380 clients that never read a large group's answer held 2.8 GB (an audit of
 * 2026-12-06), in the process every tenant shares.
 *
 * So a request that has read more than HEAVY_READ_BYTES takes one of its connection's MAX_HEAVY_AT_ONCE
 * slots, or is refused with 429 and `Retry-After`. Through the adapters it keeps the slot until its answer
 * has been written (they call the response's `sent`; should they not, until the answer is collected); an app
 * calling `handleScim` in process holds the answer itself, and the slot goes when it is returned; a failed
 * request gives it back at once. A connection then holds at most that many heavy reads and unread large
 * answers, whatever its clients do.
 */
import { ScimError } from '../errors.js';
import type { ScimBody } from './response-body.js';

/** What a request may read before it counts as heavy: a page of 1,000 ordinary users, or 20,000 members. */
export const HEAVY_READ_BYTES = 2_000_000;
/** Heavy requests of one SCIM connection at once, their answers included until written. */
export const MAX_HEAVY_AT_ONCE = 4;
/**
 * What one group membership weighs in a read and its answer (a member's value, display and `$ref`) before it
 * is read: what an IdP's members weigh. Once read, a membership weighs what it holds ({@link membershipWeight}).
 */
export const MEMBER_READ_BYTES = 100;

/** A group's member, or a user's group, as read: the strings a read holds and an answer repeats. */
interface Membership {
  value: string;
  display?: string;
  type?: string;
}

/**
 * What one membership read weighs: its strings, `value` twice (its `$ref` repeats it), at least
 * MEMBER_READ_BYTES. A member's strings are bounded (src/scim/resource-limits.ts), but at their bound
 * (1,024 characters each) a member weighs 30 times an IdP's: counted as 100 bytes, 20,000 such members read
 * as light. Pure.
 */
export function membershipWeight(membership: Membership): number {
  const strings = 2 * membership.value.length + (membership.display?.length ?? 0) + (membership.type?.length ?? 0);
  return strings > MEMBER_READ_BYTES ? strings : MEMBER_READ_BYTES;
}

/** What memberships read weigh (membershipWeight each). Pure. */
export function membershipsWeight(memberships: readonly Membership[]): number {
  let bytes = 0;
  for (const membership of memberships) bytes += membershipWeight(membership);
  return bytes;
}

/**
 * What one resource read weighs in a page's answer: its stored JSON and a user's derived groups, which a
 * user in 1,000 groups of 1,024-character names makes 1 MB. A group's members are not counted: pages of groups
 * have a member budget of their own (PAGE_MEMBERS_BUDGET). Pure.
 */
export function answerWeight(resource: { json: string; groups?: readonly Membership[] }): number {
  return resource.json.length + (resource.groups ? membershipsWeight(resource.groups) : 0);
}

/**
 * What reading `total` resources will weigh, from a first page of them (`read`, weighing `readBytes`): the
 * page's average per resource. Pure.
 */
export function expectedWeight(readBytes: number, read: number, total: number): number {
  return read === 0 ? 0 : Math.ceil((readBytes / read) * total);
}

/** What reading some resources weighs: their JSON and the memberships they carry. Pure. */
export function readWeight(resources: readonly { json: string; groups?: readonly Membership[]; members?: readonly Membership[] }[]): number {
  let bytes = 0;
  for (const r of resources) bytes += answerWeight(r) + (r.members ? membershipsWeight(r.members) : 0);
  return bytes;
}

export class HeavyWork {
  /** Connection id → slots taken; an entry exists only while one is. */
  private readonly taken = new Map<string, number>();
  /** Connection id → scans reading their first store page; an entry exists only while one is. */
  private readonly scansReading = new Map<string, number>();
  /** Answers nobody reported written: their slot goes when they are collected. */
  private readonly unwritten = new FinalizationRegistry<() => void>((release) => release());

  /** The weight of one request of `connectionId`, from its first read to its answer. */
  ticket(connectionId: string): HeavyTicket {
    return new HeavyTicket(
      () => this.take(connectionId),
      (scan) => this.crowded(connectionId, scan),
      (delta) => this.noteScanReading(connectionId, delta),
      this.unwritten,
    );
  }

  /**
   * Whether a heavy request of `connectionId` would find no slot: every slot taken, or, for a scan, the slots
   * taken and the scans reading their first page together as many (in a burst, every request sends its first
   * read before any has come back to take a slot).
   */
  private crowded(connectionId: string, scan: boolean): boolean {
    const busy = (this.taken.get(connectionId) ?? 0) + (scan ? (this.scansReading.get(connectionId) ?? 0) : 0);
    return busy >= MAX_HEAVY_AT_ONCE;
  }

  private noteScanReading(connectionId: string, delta: number): void {
    const now = (this.scansReading.get(connectionId) ?? 0) + delta;
    if (now > 0) this.scansReading.set(connectionId, now);
    else this.scansReading.delete(connectionId);
  }

  /** Slots `connectionId` holds now (tests). */
  held(connectionId: string): number {
    return this.taken.get(connectionId) ?? 0;
  }

  /** A slot of `connectionId`, as the function that gives it back (once); null when all are taken. */
  private take(connectionId: string): (() => void) | null {
    const now = this.taken.get(connectionId) ?? 0;
    if (now >= MAX_HEAVY_AT_ONCE) return null;
    this.taken.set(connectionId, now + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.taken.get(connectionId) ?? 1) - 1;
      if (left > 0) this.taken.set(connectionId, left);
      else this.taken.delete(connectionId);
    };
  }
}

export class HeavyTicket {
  private read = 0;
  private release: (() => void) | null = null;

  constructor(
    private readonly take: () => (() => void) | null,
    private readonly crowded: (scan: boolean) => boolean,
    private readonly noteScanReading: (delta: number) => void,
    private readonly unwritten: FinalizationRegistry<() => void>,
  ) {}

  /** Whether this request, holding no slot, would find none were it heavy now (firstRead's `crowded`). */
  isCrowded(scan = false): boolean {
    return this.release === null && this.crowded(scan);
  }

  /**
   * Runs the request's first store read, `read(crowded)`, which tells what the rest will weigh (`expect`):
   * `crowded` when a heavy request of its connection would find no slot now (every slot taken, or, for a
   * `scan`, taken or about to be by the scans reading their first page), so that it reads a row or so and,
   * refused, has read next to nothing. In a burst of 380 requests of one tenant, the 376 refused ones each
   * reading a first 512 KB made 36-68 ms collections. Client pages count only slots taken: concurrent pages
   * of ordinary users keep reading in one round trip.
   */
  async firstRead<T>(read: (crowded: boolean) => Promise<T>, scan: boolean): Promise<T> {
    const crowded = this.isCrowded(scan);
    if (scan) this.noteScanReading(1);
    try {
      return await read(crowded);
    } finally {
      if (scan) this.noteScanReading(-1);
    }
  }

  /**
   * Counts `bytes` this request has read; past HEAVY_READ_BYTES it takes a slot, or throws 429. With
   * `refusable` false (a read after the request's write, which a refusal would have the client send again)
   * it takes a slot when one is free and goes on without one otherwise.
   */
  charge(bytes: number, refusable = true): void {
    if (this.release) return;
    this.read += bytes;
    if (this.read <= HEAVY_READ_BYTES) return;
    this.release = this.take();
    if (!this.release && refusable) {
      throw new ScimError(
        429,
        `${MAX_HEAVY_AT_ONCE} requests of this connection that read much (scans of filters or sorts no index answers, ` +
          `pages of heavy resources, groups with long member lists) are under way or their answers are still being sent; ` +
          'retry later, ask for fewer resources or without members, or filter with "eq" on an indexed attribute',
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }

  /**
   * Takes a slot now, or throws 429, when the request is about to read `bytes` in all, more than
   * HEAVY_READ_BYTES (estimated from its first page): a request refused for its weight is then refused before
   * it reads the rest, not after its first 2 MB (in bursts of 380 scans of one tenant, the refused ones read
   * 1.2-1.6 GB in all and held the event loop 146-326 ms; an audit of 2026-12-06).
   */
  expect(bytes: number): void {
    if (this.release || bytes <= HEAVY_READ_BYTES) return;
    this.charge(HEAVY_READ_BYTES + 1 - this.read);
  }

  /**
   * Ends the ticket with the request's answer: a slot goes with an answer in parts, when the writer
   * `reportsSent`, until `sent` (returned) is called or the parts are collected, and at once otherwise (a
   * small answer, a failure, an answer handed to an in-process caller).
   */
  settle(body: ScimBody | undefined, reportsSent = false): (() => void) | undefined {
    const release = this.release;
    if (!release) return undefined;
    this.release = null;
    if (body === undefined || typeof body === 'string' || !reportsSent) {
      release();
      return undefined;
    }
    const token = {};
    this.unwritten.register(body, release, token);
    return () => {
      this.unwritten.unregister(token);
      release();
    };
  }
}
