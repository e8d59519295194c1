/**
 * The IdP certificates a SAML signature check can afford (src/saml/signing-key.ts): an RSA public exponent
 * of more than 32 bits is refused (every check against one of 3,056 bits cost 7.7 ms instead of 0.3), and a
 * connection saved before that check has such a key ignored by the ACS instead of checked with; a key
 * xml-crypto cannot check with (EC) is refused too.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { affordableCerts, signingKeyProblem } from '../src/saml/signing-key.js';
import { SAML_KEYS } from './support/saml-idp.js';

describe('signingKeyProblem', () => {
  it('accepts the RSA keys IdPs sign with and refuses a long public exponent', () => {
    for (const name of ['idp', 'next', 'attacker'] as const) expect(signingKeyProblem(new X509Certificate(SAML_KEYS[name].cert))).toBeNull();
    expect(signingKeyProblem(new X509Certificate(SAML_KEYS.bigExponent.cert))).toBe(
      'its RSA public exponent has 3056 bits; at most 32 are accepted (IdPs use 65537)',
    );
  });

  it('refuses a key xml-crypto cannot check a signature with (an EC certificate), which would fail every login', () => {
    const ec = readFileSync(new URL('./fixtures/saml/ec-p256.cert.pem', import.meta.url), 'utf8');
    expect(signingKeyProblem(new X509Certificate(ec))).toBe('its key type (ec) cannot check SAML signatures here; use an RSA certificate');
  });
});

describe('affordableCerts', () => {
  it('keeps the accepted certificates in their order and drops a refused or unreadable one, on every call', () => {
    const { idp, next, bigExponent } = SAML_KEYS;
    for (let i = 0; i < 2; i++) {
      expect(affordableCerts([bigExponent.cert, idp.cert, 'not a certificate', next.cert])).toEqual([idp.cert, next.cert]);
    }
    expect(affordableCerts([bigExponent.cert])).toEqual([]);
  });
});
