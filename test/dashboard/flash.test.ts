/**
 * The one-time reveal of a rotated token (src/dashboard/flash.ts): it opens only under the token hash it was
 * sealed to and only for two minutes after it was sealed, whatever the copy of the cookie says.
 */
import { describe, expect, it } from 'vitest';
import { FLASH_COOKIE, createFlash } from '../../src/dashboard/flash.js';

const PATH = '/admin/customers/acme';

/** Seals `message` at `sealedAt` and answers the request that carries the cookie back. */
function sealed(message: string, tokenHash: string, clock: { now: number }) {
  const flash = createFlash('secret', () => clock.now);
  const lines: string[] = [];
  flash.put({ headers: {}, base: '/admin', secure: true }, (line) => lines.push(line), PATH, message, tokenHash);
  const value = /^scim_sso_dashboard_flash=([^;]*)/.exec(lines[0]!)![1]!;
  return { flash, request: { headers: { cookie: `${FLASH_COOKIE}=${value}` }, base: '/admin', secure: true } };
}

describe('the rotated-token reveal', () => {
  it('opens within two minutes of sealing, under the same token hash', () => {
    const clock = { now: 1_000_000 };
    const { flash, request } = sealed('the-token', 'hash-1', clock);
    clock.now += 119_000;
    expect(flash.take(request, () => {}, PATH, 'hash-1')).toBe('the-token');
    expect(flash.take(request, () => {}, PATH, 'hash-2')).toBeNull();
  });

  it('does not open from a copy of the cookie replayed after two minutes', () => {
    const clock = { now: 1_000_000 };
    const { flash, request } = sealed('the-token', 'hash-1', clock);
    clock.now += 121_000;
    const cleared: string[] = [];
    expect(flash.take(request, (line) => cleared.push(line), PATH, 'hash-1')).toBeNull();
    expect(cleared).toEqual([expect.stringMatching(/^scim_sso_dashboard_flash=; .*Max-Age=0/)]);
    clock.now += 3 * 3600_000;
    expect(flash.take(request, () => {}, PATH, 'hash-1')).toBeNull();
  });
});
