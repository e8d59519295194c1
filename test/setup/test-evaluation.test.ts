/**
 * Test SSO's verdict for claims the guard refuses before any strategy runs (src/guard/guard.ts
 * claimsRefusal): the page must say refused, as the login would be, never "Admitted" (an audit of
 * 2026-12-06 saw a subject with control characters shown admitted while the login answered 400).
 */
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { claimsRefusal } from '../../src/guard/guard.js';
import { identityOf } from '../../src/guard/identity.js';
import { evaluateTestLogin } from '../../src/setup/test-evaluation.js';
import type { StoredOidcClient } from '../../src/store/store.js';
import { scimSso } from '../support/sso.js';

/** A memory store holding customer acme's OIDC client with `settings`, and that client as stored. */
async function customerWith(settings: Partial<Parameters<ReturnType<typeof scimSso>['createOidcClient']>[0]>) {
  const store = memoryStore();
  await scimSso({ store }).createOidcClient({
    customerId: 'acme',
    idpType: 'Generic',
    issuer: 'https://idp.corp.test',
    clientId: 'app',
    clientSecret: 'secret',
    redirectUri: 'https://app.test/sso/acme/callback',
    ...settings,
  });
  return { store, client: (await store.getOidcClient('acme')) as StoredOidcClient };
}

describe('Test SSO verdict for claims refused before matching', () => {
  it.each([
    ['a subject with control characters', { sub: 'a\u0000b\u202e', email: 'a@corp.test', email_verified: true }, 'invalid_response', {}],
    ['no subject', { email: 'a@corp.test', email_verified: true }, 'missing_claim', {}],
    [
      'a person outside the required tenant',
      { sub: 'ok', email: 'a@corp.test', email_verified: true, hd: 'other.test' },
      'outside_tenant',
      { hd: ['corp.test'] },
    ],
  ])('%s: refused with the code the login answers', async (_name, claims, code, requiredClaims) => {
    const { store, client } = await customerWith({ matchingStrategy: 'OidcEmailToScimUsername', requiredClaims });
    expect(claimsRefusal(client, claims, identityOf(claims, client.subjectClaim), 'OidcEmailToScimUsername')?.code).toBe(code);
    const { result } = await evaluateTestLogin(store, null, client, claims, 'OidcEmailToScimUsername', 'okta', true);
    expect(result.refusedFirst).toMatchObject({ code });
    expect(result.hints[0]).toContain(`refused (${code})`);
  });

  it('says when the refusal depends on the strategy (a subject strategy without its subject claim)', async () => {
    const { store, client } = await customerWith({ matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'uid' });
    const claims = { sub: 'a', email: 'a@corp.test', email_verified: true };
    const { result } = await evaluateTestLogin(store, null, client, claims, 'OidcSubToScimExternalId', 'okta', true);
    expect(result.refusedFirst).toMatchObject({ code: 'missing_claim' });
    expect(result.hints[0]).toContain('refused (missing_claim) under OidcSubToScimExternalId');
  });

  it('is null for claims the strategies get to decide', async () => {
    const { store, client } = await customerWith({});
    const { result } = await evaluateTestLogin(
      store,
      null,
      client,
      { sub: 'a', email: 'a@corp.test', email_verified: true },
      client.matchingStrategy as never,
      'okta',
      true,
    );
    expect(result.refusedFirst).toBeNull();
  });
});
