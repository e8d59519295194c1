/**
 * The look at a SAMLResponse's signatures before node-saml's full check (src/guard/saml-signature-check.ts):
 * it lets through every genuine response, whichever part the IdP signed and whichever of the connection's
 * certificates signed it, and refuses one signed only with keys the connection does not hold.
 */
import { describe, expect, it } from 'vitest';
import { readSamlResponse } from '../src/guard/saml-budget.js';
import { MAX_SAML_SIGNATURES, samlSignatureProblem } from '../src/guard/saml-signature-check.js';
import { SAML_KEYS, stripSignatures, testSamlIdp, type SamlAnswer } from './support/saml-idp.js';

const idp = testSamlIdp();
const sp = { entityId: 'https://app.test/saml', acsUrl: 'https://app.test/sso/acme/saml/acs' };

async function parsed(answer: Partial<SamlAnswer>): Promise<Document> {
  const xml = Buffer.from(await idp.respond(sp, { nameId: 'ann@corp.test', attributes: { email: 'ann@corp.test' }, ...answer }), 'base64').toString('utf8');
  const doc = readSamlResponse(xml);
  if (typeof doc === 'string') throw new Error(doc);
  return doc;
}

describe('samlSignatureProblem', () => {
  it.each(['assertion', 'response', 'both'] as const)('lets a response through whose %s the IdP signed, under any of the certificates', async (sign) => {
    const doc = await parsed({ sign });
    expect(samlSignatureProblem(doc, [SAML_KEYS.idp.cert])).toBeNull();
    expect(samlSignatureProblem(doc, [SAML_KEYS.next.cert, SAML_KEYS.idp.cert])).toBeNull();
  });

  it('lets a response through signed with the next key during a rotation', async () => {
    expect(samlSignatureProblem(await parsed({ key: 'next' }), [SAML_KEYS.idp.cert, SAML_KEYS.next.cert])).toBeNull();
  });

  it.each(['assertion', 'response', 'both'] as const)('refuses a response whose %s only a key the connection does not hold signed', async (sign) => {
    const doc = await parsed({ sign, key: 'attacker' });
    expect(samlSignatureProblem(doc, [SAML_KEYS.idp.cert, SAML_KEYS.next.cert])).toMatch(/^Invalid signature: no signature of the SAMLResponse/);
    // The same response, with the attacker's certificate configured, goes on.
    expect(samlSignatureProblem(doc, [SAML_KEYS.attacker.cert])).toBeNull();
  });

  it('refuses a genuine signature whose SignedInfo was changed, and lets an unsigned response go on for node-saml to refuse', async () => {
    const xml = Buffer.from(await idp.respond(sp, { nameId: 'ann@corp.test' }), 'base64').toString('utf8');
    // The digest's first character becomes a different one (always: a fixed 'A' left one digest in 64 untouched).
    const tampered = readSamlResponse(xml.replace(/(<(?:\w+:)?DigestValue>)(.)/, (_, open: string, first: string) => `${open}${first === 'A' ? 'B' : 'A'}`));
    expect(typeof tampered !== 'string' && samlSignatureProblem(tampered, [SAML_KEYS.idp.cert])).toMatch(/^Invalid signature/);
    const unsigned = readSamlResponse(stripSignatures(xml));
    expect(typeof unsigned !== 'string' && samlSignatureProblem(unsigned, [SAML_KEYS.idp.cert])).toBeNull();
  });

  it(`refuses more than ${MAX_SAML_SIGNATURES} signatures before checking any`, async () => {
    const xml = Buffer.from(await idp.respond(sp, { nameId: 'ann@corp.test', sign: 'both' }), 'base64').toString('utf8');
    const signature = /<(\w+:)?Signature[\s>][\s\S]*?<\/\1?Signature>/.exec(xml)![0];
    const crowded = readSamlResponse(xml.replace('</samlp:Response>', `${signature.repeat(MAX_SAML_SIGNATURES)}</samlp:Response>`));
    expect(typeof crowded !== 'string' && samlSignatureProblem(crowded, [SAML_KEYS.idp.cert])).toMatch(/XML signatures; at most/);
  });
});
