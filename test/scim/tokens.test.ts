import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/scim/auth.js';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from '../support/app.js';

describe.each(STORE_KINDS)('SCIM token rotation end to end on the %s store', (kind) => {
  let t: ScimTestApp;
  /** The store's clock: the grace period is crossed by setting it, not by sleeping (null: the real one). */
  let clock: number | null = null;
  beforeAll(async () => {
    t = await scimTestApp(kind, `tokens-${kind}`, {}, 'express', { now: () => clock ?? Date.now() });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  const status = async (token: string) => (await t.http.get('/scim/v2/Users').set('Authorization', `Bearer ${token}`)).status;

  it('keeps the old token working through the grace period, then refuses it; the new one works throughout', async () => {
    const customerId = `${kind}-rotating`;
    const { token: first } = await t.sso.createScimConnection({ customerId });
    const { token: second } = await t.sso.rotateScimToken(customerId, { graceSeconds: 3600 });
    expect(second).not.toBe(first);
    expect(second).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect([await status(first), await status(second)]).toEqual([200, 200]);
    const expiresAt = Date.parse((await t.sso.fetchScimConnection(customerId))!.previousTokenExpiresAt!);
    // From the stored end of the grace period: an offset from the rotation failed when a second passed between.
    clock = expiresAt - 1_000; // a second before the end of the grace period
    expect([await status(first), await status(second)]).toEqual([200, 200]);
    clock = expiresAt + 1_000;
    expect([await status(first), await status(second)]).toEqual([401, 200]);
    clock = null;
  });

  it('refuses the old token at once without a grace period, and a token of a deleted connection', async () => {
    const customerId = `${kind}-immediate`;
    const { token: first } = await t.sso.createScimConnection({ customerId });
    const { token: second } = await t.sso.rotateScimToken(customerId);
    expect([await status(first), await status(second)]).toEqual([401, 200]);
    await t.sso.deleteScimConnection(customerId);
    expect(await status(second)).toBe(401);
  });

  it('never returns the token or its hash from fetchScimConnection', async () => {
    const customerId = `${kind}-fetch`;
    const { token } = await t.sso.createScimConnection({ customerId });
    const fetched = await t.sso.fetchScimConnection(customerId);
    expect(Object.keys(fetched!).sort()).toEqual(['connectionId', 'createdAt', 'customerId', 'displayName', 'oidcClientId', 'previousTokenExpiresAt']);
    expect(JSON.stringify(fetched)).not.toContain(token);
  });
});

describe('hashToken', () => {
  it('is the hex SHA-256 of the token as UTF-8, for any text an app may have set as a token', () => {
    for (const token of ['scim_abc', '', 'ünïcødé-tökén', '\u{1F600}'.repeat(40), 'x'.repeat(10_000)]) {
      expect(hashToken(token)).toBe(createHash('sha256').update(token, 'utf8').digest('hex'));
    }
  });
});
