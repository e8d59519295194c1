/**
 * The subject claim the guard records (src/guard/guard.ts): an IdP's `sub` is any JSON string, and one the
 * SSO user record cannot hold as it is (too long, control characters, a lone UTF-16 surrogate, which Redis
 * would store as U+FFFD and the dashboard's links could not encode) is refused before any store call.
 */
import { describe, expect, it } from 'vitest';
import { runGuard } from '../../src/guard/guard.js';
import { SsoLoginError } from '../../src/errors.js';
import { memoryStore } from '../../src/store/memory.js';

const client = { customerId: 'subject-test', matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' } as const;

describe('the subject claim', () => {
  it.each([
    ['a lone high surrogate', 'user\ud800'],
    ['a lone low surrogate', '\udc00user'],
    ['a control character', 'user\u0000'],
    ['1,001 characters', 'x'.repeat(1001)],
  ])('refuses %s as invalid_response, recording nothing', async (_name, sub) => {
    const store = memoryStore();
    const refused = await runGuard(store, { client, connection: null }, { sub }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SsoLoginError);
    expect(refused).toMatchObject({ code: 'invalid_response', status: 400 });
    expect(await store.listSsoUsers('subject-test')).toEqual([]);
  });

  it('takes a subject of paired surrogates (an emoji) and records it', async () => {
    const store = memoryStore();
    const result = await runGuard(store, { client, connection: null }, { sub: 'user\u{1f600}' });
    // No SCIM connection: the guard admits and records the login (docs: guard outcomes).
    expect(result.decision).toMatchObject({ admit: true });
    expect((await store.listSsoUsers('subject-test')).map((u) => u.subject)).toEqual(['user\u{1f600}']);
  });
});

describe('a configured subject claim (Entra: oid) that the token lacks', () => {
  const entra = (matchingStrategy: string) => ({ customerId: 'subject-oid', matchingStrategy, subjectClaim: 'oid' }) as never;

  it.each(['OidcSubToScimExternalId', 'OidcSubToScimUsername'])('refuses a login %s would match on sub instead, recording nothing', async (strategy) => {
    const store = memoryStore();
    for (const claims of [{ sub: 'pairwise-sub' }, { sub: 'pairwise-sub', oid: 42 }, { sub: 'pairwise-sub', oid: '' }]) {
      const refused = await runGuard(store, { client: entra(strategy), connection: null }, claims).catch((error: unknown) => error);
      expect(refused, JSON.stringify(claims)).toBeInstanceOf(SsoLoginError);
      expect(refused).toMatchObject({ code: 'missing_claim', status: 401, message: expect.stringContaining('"oid"') });
    }
    expect(await store.listSsoUsers('subject-oid')).toEqual([]);
    // With the claim, it is the subject.
    const admitted = await runGuard(store, { client: entra(strategy), connection: null }, { sub: 'pairwise-sub', oid: 'object-id' });
    expect(admitted.identity.subject).toBe('object-id');
  });

  it('files a login on an email strategy under sub, which is all it needs the subject for', async () => {
    const store = memoryStore();
    const result = await runGuard(
      store,
      { client: entra('OidcEmailToScimUsername'), connection: null },
      { sub: 'pairwise-sub', email: 'a@corp.test', email_verified: true },
    );
    expect(result.decision).toMatchObject({ admit: true });
    expect((await store.listSsoUsers('subject-oid')).map((u) => u.subject)).toEqual(['pairwise-sub']);
  });
});
