/**
 * The look at a SAMLResponse's signatures before node-saml's full check (src/guard/saml-signature-check.ts):
 * it lets through every genuine response, whichever part the IdP signed and whichever of the connection's
 * certificates signed it, answering the certificates that signed it; it refuses one with any signature made
 * with a key the connection does not hold, placed where node-saml does not look, or naming another element
 * (a signature copied from another message the IdP signed).
 */
import { describe, expect, it } from 'vitest';
import { readSamlResponse } from '../src/guard/saml-budget.js';
import { lookAtSamlSignatures, MAX_SAML_SIGNATURES } from '../src/guard/saml-signature-check.js';
import { SAML_KEYS, stripSignatures, testSamlIdp, type SamlAnswer } from './support/saml-idp.js';

const idp = testSamlIdp();
const sp = { entityId: 'https://app.test/saml', acsUrl: 'https://app.test/sso/acme/saml/acs' };
const { idp: current, next, attacker } = SAML_KEYS;

async function xmlOf(answer: Partial<SamlAnswer>, to = sp): Promise<string> {
  return Buffer.from(await idp.respond(to, { nameId: 'ann@corp.test', attributes: { email: 'ann@corp.test' }, ...answer }), 'base64').toString('utf8');
}

function parse(xml: string): Document {
  const doc = readSamlResponse(xml);
  if (typeof doc === 'string') throw new Error(doc);
  return doc;
}

const parsed = async (answer: Partial<SamlAnswer>) => parse(await xmlOf(answer));
const SIGNATURE = /<(\w+:)?Signature[\s>][\s\S]*?<\/\1?Signature>/;
const refusal = (doc: Document, certs: readonly string[]) => {
  const look = lookAtSamlSignatures(doc, certs);
  return 'refused' in look ? look.refused : null;
};

/** A genuine signature the IdP made for a response to another SP, and an unsigned response to this one. */
async function borrowedSignature(): Promise<{ borrowed: string; unsigned: string }> {
  const elsewhere = await xmlOf({ sign: 'response', inResponseTo: '_other' }, { entityId: 'https://other-sp.test/saml', acsUrl: 'https://other-sp.test/acs' });
  return { borrowed: SIGNATURE.exec(elsewhere)![0], unsigned: stripSignatures(await xmlOf({ sign: 'assertion' })) };
}

describe('lookAtSamlSignatures', () => {
  it.each(['assertion', 'response', 'both'] as const)(
    'lets a response through whose %s the IdP signed, naming the certificate that signed it',
    async (sign) => {
      const doc = await parsed({ sign });
      expect(lookAtSamlSignatures(doc, [current.cert])).toEqual({ certs: [current.cert] });
      expect(lookAtSamlSignatures(doc, [next.cert, current.cert])).toEqual({ certs: [current.cert] });
    },
  );

  it('names the next key during a rotation, so node-saml checks the response with it alone', async () => {
    expect(lookAtSamlSignatures(await parsed({ key: 'next' }), [current.cert, next.cert])).toEqual({ certs: [next.cert] });
  });

  it.each(['assertion', 'response', 'both'] as const)('refuses a response whose %s only a key the connection does not hold signed', async (sign) => {
    const doc = await parsed({ sign, key: 'attacker' });
    expect(refusal(doc, [current.cert, next.cert])).toMatch(
      /^Invalid signature: the (response|assertion)'s signature is not made with a certificate of this connection/,
    );
    // The same response, with the attacker's certificate configured, goes on.
    expect(lookAtSamlSignatures(doc, [attacker.cert])).toEqual({ certs: [attacker.cert] });
  });

  it('refuses a genuine signature whose SignedInfo was changed, and lets an unsigned response go on for node-saml to refuse', async () => {
    const xml = await xmlOf({});
    // The digest's first character becomes a different one (always: a fixed 'A' left one digest in 64 untouched).
    const tampered = xml.replace(/(<(?:\w+:)?DigestValue>)(.)/, (_, open: string, first: string) => `${open}${first === 'A' ? 'B' : 'A'}`);
    expect(refusal(parse(tampered), [current.cert])).toMatch(/^Invalid signature/);
    expect(lookAtSamlSignatures(parse(stripSignatures(xml)), [current.cert])).toEqual({ certs: [current.cert] });
  });

  it('refuses a response that carries a made-up signature beside a genuine one', async () => {
    const xml = await xmlOf({ sign: 'response' });
    const genuine = SIGNATURE.exec(xml)![0];
    const madeUp = genuine.replace(/(<(?:\w+:)?SignatureValue>)(.)/, (_, open: string, first: string) => `${open}${first === 'A' ? 'B' : 'A'}`);
    // The made-up one signs the assertion, where node-saml would check it.
    const assertionId = /<(?:\w+:)?Assertion[^>]*\sID="([^"]+)"/.exec(xml)![1]!;
    const withBoth = xml.replace(
      /(<(?:\w+:)?Assertion[^>]*>)(<(?:\w+:)?Issuer[^>]*>[^<]*<\/(?:\w+:)?Issuer>)/,
      (_, open: string, issuer: string) => `${open}${issuer}${madeUp.replace(/URI="#[^"]+"/, `URI="#${assertionId}"`)}`,
    );
    expect(withBoth).not.toBe(xml);
    expect(refusal(parse(withBoth), [current.cert])).toMatch(
      /the assertion's signature is not made with a certificate of this connection \(add the certificate the IdP signs the assertion with\)/,
    );
  });

  it('refuses a genuine signature copied from another message the IdP signed, placed where node-saml does not look', async () => {
    const { borrowed, unsigned } = await borrowedSignature();
    // Inside an attribute value, in the status, as a grandchild of the assertion: nowhere node-saml checks.
    const places = [
      unsigned.replace(/(<(?:\w+:)?AttributeValue[^>]*>)/, `$1${borrowed}`),
      unsigned.replace(/(<(?:\w+:)?Status>)/, `$1${borrowed}`),
      unsigned.replace(/(<(?:\w+:)?Subject>)/, `$1${borrowed}`),
    ];
    for (const xml of places) {
      expect(xml).not.toBe(unsigned);
      expect(refusal(parse(xml), [current.cert])).toBe('Invalid signature: a signature sits where no SAML signature goes');
    }
  });

  it('refuses a genuine signature placed on a response or assertion whose ID it does not name', async () => {
    const { borrowed, unsigned } = await borrowedSignature();
    const onResponse = unsigned.replace(/(<(?:\w+:)?Status>)/, `${borrowed}$1`);
    expect(onResponse).not.toBe(unsigned);
    expect(refusal(parse(onResponse), [current.cert])).toBe('Invalid signature: a signature does not name the element it signs');
    // Given the ID it names, it is placed right and its SignedInfo verifies: node-saml's digest check refuses
    // it, with the one certificate that signed it.
    const namedId = /URI="#([^"]+)"/.exec(borrowed)![1]!;
    const renamed = onResponse.replace(/(<(?:\w+:)?Response[^>]*\sID=")[^"]+"/, `$1${namedId}"`);
    expect(lookAtSamlSignatures(parse(renamed), [next.cert, current.cert, attacker.cert])).toEqual({ certs: [current.cert] });
  });

  it('refuses an element signed twice before checking any signature', async () => {
    // Found by an audit (2026-12-07): four copies of one genuine signature on the response were four checks
    // per certificate, for anyone holding one message the IdP signed. With no certificate at all, the
    // refusal still names the copies: nothing was checked.
    const xml = await xmlOf({ sign: 'response' });
    const genuine = SIGNATURE.exec(xml)![0];
    const twice = parse(xml.replace(genuine, genuine + genuine));
    expect(refusal(twice, [])).toBe('Invalid signature: an element carries more than one signature');
    expect(refusal(twice, [current.cert])).toBe('Invalid signature: an element carries more than one signature');
  });

  it(`refuses more than ${MAX_SAML_SIGNATURES} signatures before checking any`, async () => {
    const xml = await xmlOf({ sign: 'both' });
    const signature = SIGNATURE.exec(xml)![0];
    const crowded = parse(xml.replace('</samlp:Response>', `${signature.repeat(MAX_SAML_SIGNATURES)}</samlp:Response>`));
    expect(refusal(crowded, [current.cert])).toMatch(/XML signatures; at most/);
  });
});
