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
