/** Pure parts of the SAML login: the strategies' lookups, the claims read from an assertion, the memory caches' bounds. */
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { latestRestart, replayWindowMs, requestIdFor, SAML_REQUEST_TTL_MS, signedPartHint } from '../src/guard/saml.js';
import { lookupFor, type SsoIdentity } from '../src/match/strategies.js';
import { samlClaims } from '../src/guard/saml-claims.js';
import { memorySamlCache } from '../src/store/memory-saml-cache.js';

const identity = (over: Partial<SsoIdentity>): SsoIdentity => ({ subject: '', email: null, emailVerified: null, preferredUsername: null, ...over });

describe('SAML strategies: lookups', () => {
  it('NameID to userName folds; NameID and the attribute to externalId are exact; the email ignores email_verified', () => {
    expect(lookupFor('SamlNameIdToScimUsername', identity({ subject: ' Ann@Corp.Test ' }))).toEqual({ index: 'userName', value: 'ann@corp.test' });
    expect(lookupFor('SamlNameIdToScimExternalId', identity({ subject: 'AbC' }))).toEqual({ index: 'externalId', value: 'AbC' });
    expect(
      lookupFor('SamlEmailToScimUsername', identity({ subject: 'x', email: 'Bo@Corp.Test', emailVerified: false }), { requireVerifiedEmail: true }),
    ).toEqual({
      index: 'userName',
      value: 'bo@corp.test',
    });
    expect(lookupFor('SamlAttributeToScimExternalId', identity({ subject: 'x', samlAttribute: 'OID-1' }))).toEqual({ index: 'externalId', value: 'OID-1' });
  });

  it('answers no lookup when the value is missing or blank', () => {
    expect(lookupFor('SamlEmailToScimUsername', identity({ subject: 'x' }))).toBeNull();
    expect(lookupFor('SamlAttributeToScimExternalId', identity({ subject: 'x' }))).toBeNull();
    expect(lookupFor('SamlAttributeToScimExternalId', identity({ subject: 'x', samlAttribute: '  ' }))).toBeNull();
    expect(lookupFor('SamlNameIdToScimUsername', identity({ subject: '' }))).toBeNull();
  });
});

describe('samlClaims', () => {
  const settings = { emailAttribute: 'mail', matchAttribute: 'oid' };

  it('reads the NameID, the configured attributes and a display name', () => {
    const claims = samlClaims(
      { nameID: 'ann@corp.test', nameIDFormat: 'urn:f', issuer: 'urn:idp', attributes: { mail: 'ann@corp.test', oid: ['o-1'], displayName: 'Ann' } },
      settings,
    );
    expect(claims).toEqual({ sub: 'ann@corp.test', saml_name_id_format: 'urn:f', iss: 'urn:idp', email: 'ann@corp.test', saml_attribute: 'o-1', name: 'Ann' });
  });

  it('treats several values, non-strings, control characters, overlong values and inherited names as absent', () => {
    const attributes = Object.create({ oid: 'inherited' }) as Record<string, unknown>;
    attributes.mail = ['a@x.test', 'b@x.test'];
    expect(samlClaims({ nameID: 'n', attributes }, settings)).toEqual({ sub: 'n' });
    expect(samlClaims({ nameID: 'n', attributes: { mail: { nested: true }, oid: 'x\u0000y' } }, settings)).toEqual({ sub: 'n' });
    expect(samlClaims({ nameID: 'a'.repeat(1001), attributes: { toString: 'x' } }, settings)).toEqual({});
    expect(samlClaims({ nameID: 'n', attributes: { __proto__: 'x', oid: 'o' } as never }, settings)).toEqual({ sub: 'n', saml_attribute: 'o' });
  });
});

describe('memory SAML assertion cache: bounds', () => {
  it("a customer's full share refuses rather than forget a live assertion, and refuses that customer only", async () => {
    let now = 1_000;
    const cache = memorySamlCache({ maxEntriesPerCustomer: 2, now: () => now });
    expect(await cache.rememberSamlAssertion('c', '_a', 100)).toBe(true);
    expect(await cache.rememberSamlAssertion('c', '_b', 10_000)).toBe(true);
    await expect(cache.rememberSamlAssertion('c', '_c', 10_000)).rejects.toThrow(/full/);
    expect(await cache.rememberSamlAssertion('c', '_b', 10_000)).toBe(false);
    // Another customer's logins go on, the same assertion ID included (IDs are per customer).
    expect(await cache.rememberSamlAssertion('d', '_c', 10_000)).toBe(true);
    expect(await cache.rememberSamlAssertion('d', '_b', 10_000)).toBe(true);
    expect(await cache.rememberSamlAssertion('d', '_b', 10_000)).toBe(false);
    now += 200; // c's _a expired: room again
    expect(await cache.rememberSamlAssertion('c', '_c', 10_000)).toBe(true);
  });
});

describe('replayWindowMs (how long an assertion ID is remembered)', () => {
  const started = 5_000_000;
  it("keeps it until the assertion expires or until no instance takes its login's response, whichever is first", () => {
    const day = 24 * 3_600_000;
    expect(replayWindowMs(day, started, started + 1_000)).toBe(2 * SAML_REQUEST_TTL_MS - 1_000);
    expect(replayWindowMs(300_000, started, started + 1_000)).toBe(300_000);
    // Posted 10 minutes after the start by a clock 10 minutes ahead: still at least a millisecond.
    expect(replayWindowMs(day, started, started + 2 * SAML_REQUEST_TTL_MS + 5)).toBe(1);
  });
});

describe('signedPartHint', () => {
  const doc = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
  const NS =
    'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"';
  const responseOnly = doc(`<samlp:Response ${NS}><ds:Signature/><saml:Assertion/></samlp:Response>`);
  const assertionOnly = doc(`<samlp:Response ${NS}><saml:Assertion><ds:Signature/></saml:Assertion></samlp:Response>`);
  const both = doc(`<samlp:Response ${NS}><ds:Signature/><saml:Assertion><ds:Signature/></saml:Assertion></samlp:Response>`);

  it("names the setting that would take a response signed elsewhere than the connection's signed asks", () => {
    expect(signedPartHint(responseOnly, 'assertion')).toContain("set the connection's signed to 'response'");
    expect(signedPartHint(responseOnly, 'both')).toContain("set the connection's signed to 'response'");
    expect(signedPartHint(assertionOnly, 'response')).toContain("set the connection's signed to 'assertion'");
    expect(signedPartHint(assertionOnly, 'both')).toContain("set the connection's signed to 'assertion'");
  });

  it('says nothing when the signatures are where the setting asks', () => {
    expect(signedPartHint(responseOnly, 'response')).toBe('');
    expect(signedPartHint(assertionOnly, 'assertion')).toBe('');
    expect(signedPartHint(both, 'both')).toBe('');
    expect(signedPartHint(both, 'assertion')).toBe('');
  });
});

describe('latestRestart (the ACS restarting an IdP-initiated login)', () => {
  const binding = (customerId: string, nonce: string, startedAt: number, restarted = true) =>
    `scimsso_saml${requestIdFor(customerId, nonce, startedAt)}=${nonce}.${startedAt.toString(36)}${restarted ? '.r' : ''}`;
  const nonce = (c: string) => c.repeat(43);

  it("answers the latest start among the customer's well-formed cookies of logins the ACS started", () => {
    const header = [binding('acme', nonce('a'), 1_000), 'session=x', binding('acme', nonce('b'), 5_000), binding('other', nonce('c'), 9_000)].join('; ');
    expect(latestRestart('acme', header)).toBe(5_000);
    expect(latestRestart('other', header)).toBe(9_000);
    expect(latestRestart('nobody', header)).toBeNull();
  });

  it('leaves out logins the person started at the app (no .r mark)', () => {
    expect(latestRestart('acme', binding('acme', nonce('a'), 7_000, false))).toBeNull();
    expect(latestRestart('acme', [binding('acme', nonce('a'), 7_000, false), binding('acme', nonce('b'), 2_000)].join('; '))).toBe(2_000);
  });

  it('ignores a cookie whose name its value does not derive (a start time moved), malformed ones and oversized headers', () => {
    const genuine = binding('acme', nonce('a'), 1_000);
    const moved = genuine.replace(/\.[0-9a-z]+\.r$/, `.${(99_000).toString(36)}.r`);
    expect(moved).not.toBe(genuine);
    expect(latestRestart('acme', moved)).toBeNull();
    expect(latestRestart('acme', 'scimsso_saml_x=1; scimsso_saml=; =; ;')).toBeNull();
    expect(latestRestart('acme', `${genuine}; pad=${'x'.repeat(16_384)}`)).toBeNull();
    expect(latestRestart('acme', undefined)).toBeNull();
  });
});
