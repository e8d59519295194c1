/** The binding of a login's state to the OIDC client it was started under (src/guard/passport.ts). Pure. */
import { describe, expect, it } from 'vitest';
import { bindingOfState, clientBinding } from '../../src/guard/passport.js';

const client = { oidcClientId: 'id-1', issuer: 'https://idp.test/t/a', clientId: 'app', redirectUri: 'https://app.test/sso/acme/callback' };

describe('clientBinding', () => {
  it('is stable for the same client and changes with the client record, issuer, client id or redirect URI', () => {
    const same = clientBinding({ ...client });
    expect(clientBinding(client)).toBe(same);
    const changed = [
      { ...client, oidcClientId: 'id-2' },
      { ...client, issuer: 'https://idp.test/t/b' },
      { ...client, clientId: 'app-2' },
      { ...client, redirectUri: 'https://app.test/sso/acme/callback2' },
    ].map(clientBinding);
    for (const binding of changed) expect(binding).not.toBe(same);
    expect(new Set(changed).size).toBe(4);
  });

  it('is URL- and state-safe (base64url, no dot) and is read back from a state', () => {
    const binding = clientBinding(client);
    expect(binding).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(bindingOfState(`randomstate.${binding}`)).toBe(binding);
    expect(bindingOfState('randomstate')).toBeNull();
    expect(bindingOfState(undefined)).toBeNull();
  });
});
