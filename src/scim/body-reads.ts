/**
 * Request bodies being received at once, per SCIM connection. The rate limit counts requests as they start,
 * but a body that arrives slowly holds what came of it (up to `maxBodyBytes`) until it ends: 40 bodies of
 * 1 MB stalled just before their end held 41 MB of the process every tenant shares, and Node gives up on
 * them only after its `requestTimeout` of 300 s (an audit of 2026-12-06). So a body has
 * {@link SCIM_BODY_READ_MS} to arrive (408, src/scim/body.ts), and a connection has at most
 * {@link MAX_BODIES_READ_AT_ONCE} arriving at once: the next is refused unread with 429 and `Retry-After`, and
 * after the answer its body is drained if it is declared at most 16 KB, else the connection is closed
 * (settleUnreadBody, src/scim/mount.ts). IdPs send one connection's requests a few at a time; the benchmark
 * sends 16.
 */
import { ScimError } from '../errors.js';
import type { ScimRequest } from './http.js';

export const MAX_BODIES_READ_AT_ONCE = 32;

/** How long a SCIM request body may take to arrive in full once scim-sso starts reading it. */
export const SCIM_BODY_READ_MS = 30_000;

export class BodyReads {
  /** Connection id → bodies being read now; an entry exists only while one is. */
  private readonly reading = new Map<string, number>();

  /** `request` with its body read counted against the connection's bodies at once (unchanged without one). */
  counted(request: ScimRequest, connectionId: string): ScimRequest {
    const read = request.readBody;
    if (!read) return request;
    return { ...request, readBody: () => this.read(connectionId, read) };
  }

  private async read(connectionId: string, read: () => Promise<Buffer | ScimError>): Promise<Buffer | ScimError> {
    const now = this.reading.get(connectionId) ?? 0;
    if (now >= MAX_BODIES_READ_AT_ONCE) {
      return new ScimError(429, `${MAX_BODIES_READ_AT_ONCE} request bodies of this connection are arriving already; retry later`, undefined, {
        'Retry-After': '1',
      });
    }
    this.reading.set(connectionId, now + 1);
    try {
      return await read();
    } finally {
      const left = (this.reading.get(connectionId) ?? 1) - 1;
      if (left > 0) this.reading.set(connectionId, left);
      else this.reading.delete(connectionId);
    }
  }
}
