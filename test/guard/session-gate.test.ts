/**
 * The session gate (src/guard/session-gate.ts) when the store cannot be reached: the session is kept and the
 * request is refused with 503 store_unavailable, as JSON, or redirected with the same code when the app gave
 * `redirectTo` (README, "Error shapes"); the message speaks of the session, not of a login.
 */
import { describe, expect, it } from 'vitest';
import { gateSession } from '../../src/guard/session-gate.js';
import type { LoginRuntime } from '../../src/guard/passport.js';
import { memoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';

/** A store whose every call fails as an unreachable Redis does. */
const downStore = new Proxy(memoryStore(), {
  get: (target, name) =>
    typeof target[name as keyof Store] === 'function' ? () => Promise.reject(new StoreUnavailableError('down')) : target[name as keyof Store],
});
const runtime = { store: downStore, emit: () => {}, options: { retryAfterSeconds: 7 } } as unknown as LoginRuntime;
const user = { customerId: 'acme', connectionId: 'conn-1', scimUserId: 'u-1' };

describe('the session gate while the store is down', () => {
  it('answers 503 store_unavailable with Retry-After and keeps the session', async () => {
    const verdict = await gateSession(runtime, {}, user);
    expect(verdict).toMatchObject({ pass: false, logOut: false, rendered: { status: 503, headers: { 'Retry-After': '7' } } });
    const body = (verdict as unknown as { rendered: { body: { error: string; message: string } } }).rendered.body;
    expect(body.error).toBe('store_unavailable');
    expect(body.message).toMatch(/session could not be checked/);
  });

  it('redirects with error=store_unavailable when the app gave redirectTo', async () => {
    const verdict = await gateSession(runtime, {}, user, { redirectTo: '/login' });
    expect(verdict).toMatchObject({
      pass: false,
      logOut: false,
      rendered: { status: 302, headers: { Location: '/login?error=store_unavailable', 'Retry-After': '7' } },
    });
  });
});
