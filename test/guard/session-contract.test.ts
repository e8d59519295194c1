/**
 * The SessionUser contract at run time (src/guard/passport.ts keepingContract): an app's verify that logs
 * in a user without the guard's customerId, connectionId and scimUserId fails the login with a
 * ScimSsoConfigError instead of creating a session `requireActiveUser` would refuse forever. The guard runs
 * for real on a memory store; the token response is the validated one openid-client hands a verify.
 */
import { describe, expect, it } from 'vitest';
import { ScimSsoConfigError, type AppVerify, type LoginTokens } from '../../src/index.js';
import { scimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

async function setUp() {
  const sso = scimSso({});
  const { token } = await sso.createScimConnection({ customerId: 'contract' });
  await sso.createOidcClient({
    customerId: 'contract',
    idpType: 'Okta',
    issuer: 'https://idp.example.test',
    clientId: 'c',
    redirectUri: 'https://app.example.test/sso/contract/callback',
  });
  const created = await sso.handleScim({
    method: 'POST',
    path: '/Users',
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'ann@contract.test' }),
    baseUrl: 'https://app.example.test/scim/v2',
  });
  const scimUserId = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
  const tokens = {
    claims: () => ({ iss: 'https://idp.example.test', aud: 'c', sub: 'ann', email: 'ann@contract.test', email_verified: true }),
  } as unknown as LoginTokens;
  /** Runs the guard's verify with the app's verify; resolves with what passport would receive. */
  const login = (verify: AppVerify) =>
    new Promise<{ error: unknown; user: unknown }>((resolve) => {
      sso.guardVerify('contract', verify)({}, tokens, (error, user) => resolve({ error, user }));
    });
  return { sso, scimUserId, login };
}

describe('the SessionUser contract of an app verify', () => {
  it('admits a user that keeps the guard ids (with fields of its own)', async () => {
    const { login, scimUserId } = await setUp();
    const { error, user } = await login((_req, _tokens, result, verified) => verified(null, { ...result.sessionUser, role: 'admin' }));
    expect(error).toBeNull();
    expect(user).toMatchObject({ customerId: 'contract', scimUserId, role: 'admin' });
  });

  it('fails the login when the user drops or changes them', async () => {
    const { login } = await setUp();
    const dropped = await login((_req, _tokens, result, verified) => verified(null, { ...result.sessionUser, scimUserId: null }));
    expect(dropped.user).toBeUndefined();
    expect(dropped.error).toBeInstanceOf(ScimSsoConfigError);
    expect(String(dropped.error)).toMatch(/customerId, connectionId and scimUserId of result\.sessionUser/);
    const other = await login((_req, _tokens, result, verified) => verified(null, { ...result.sessionUser, customerId: 'someone-else' }));
    expect(other.error).toBeInstanceOf(ScimSsoConfigError);
  });

  it('passes a refusal (false) and an error through unchanged', async () => {
    const { login } = await setUp();
    expect(await login((_req, _tokens, _result, verified) => verified(null, false))).toEqual({ error: null, user: false });
    const failure = new Error('app says no');
    expect((await login((_req, _tokens, _result, verified) => verified(failure))).error).toBe(failure);
  });
});
