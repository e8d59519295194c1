/**
 * IdP metadata (src/saml/idp-metadata.ts): what it costs the XML parser is bounded before the parser sees it
 * (scanXml, src/saml/xml-bounds.ts), for metadata given as XML and fetched from a URL alike. A hostile-tenant
 * probe (2026-12-07) found 20,000 unclosed elements (60 KB) held the event loop 6–8 s in xmldom.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOMParser } from '@xmldom/xmldom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScimSsoConfigError } from '../src/index.js';
import {
  MAX_METADATA_ATTRIBUTES,
  MAX_METADATA_DEPTH,
  MAX_METADATA_MARKUP,
  MAX_METADATA_NAMESPACES,
  MAX_METADATA_REFERENCES,
  parseIdpMetadata,
} from '../src/saml/idp-metadata.js';
import { adfsMetadata } from './support/adfs-metadata.js';
import { SAML_KEYS } from './support/saml-idp.js';
import { scimSso } from './support/sso.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const acsUrl = 'https://app.example.com/sso/acme/saml/acs';
const base64 = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
const signing = [base64(SAML_KEYS.idp.cert), base64(SAML_KEYS.next.cert)];
const encryption = base64(SAML_KEYS.attacker.cert);

/** Metadata an IdP could send, `inner` inside its IDPSSODescriptor. */
const metadata = (inner = '') =>
  `<md:EntityDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" entityID="https://idp.test"><md:IDPSSODescriptor>${inner}` +
  `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${signing[0]}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
  `<md:SingleSignOnService Binding="${REDIRECT}" Location="https://idp.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

/** The probe's document: an EntityDescriptor and `n` elements never closed. */
const unclosed = (n: number) => `<md:EntityDescriptor xmlns:md="${MD}">` + '<a>'.repeat(n);

/** parseIdpMetadata's refusal of `xml`, and how many times an XML parser was started meanwhile. */
function refusal(xml: string): { message: string; parses: number } {
  const parse = vi.spyOn(DOMParser.prototype, 'parseFromString');
  try {
    parseIdpMetadata(xml);
    return { message: 'accepted', parses: parse.mock.calls.length };
  } catch (error) {
    return { message: (error as Error).message, parses: parse.mock.calls.length };
  } finally {
    parse.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('parseIdpMetadata: bounds checked before the XML parser runs', () => {
  it('refuses elements left unclosed (the probe: 20,000 of them, 60 KB) by their depth, without parsing', () => {
    expect(refusal(unclosed(20_000))).toEqual({
      message: `the IdP metadata nests elements more than ${MAX_METADATA_DEPTH} deep, or leaves them unclosed; at most ${MAX_METADATA_DEPTH} levels are accepted`,
      parses: 0,
    });
    // A few unclosed elements are within the depth, and are refused as not well-formed, still before parsing.
    expect(refusal(metadata('<a><b>'))).toEqual({ message: 'the IdP metadata is not well-formed XML (its start and end tags do not match)', parses: 0 });
    // An end tag naming another element closes nothing (the parser ignores it), so it cannot hide the nesting.
    expect(refusal(metadata('<a></b>'.repeat(40)))).toEqual({
      message: 'the IdP metadata is not well-formed XML (its start and end tags do not match)',
      parses: 0,
    });
  });

  it('refuses well-formed metadata nested deeper than the limit', () => {
    const deep = (levels: number) => metadata('<a>'.repeat(levels) + '</a>'.repeat(levels));
    // The metadata's own two levels (EntityDescriptor, IDPSSODescriptor) count too: 31 more make 33.
    expect(refusal(deep(MAX_METADATA_DEPTH - 1))).toEqual({ message: expect.stringMatching(/nests elements more than 32 deep/), parses: 0 });
    expect(refusal(deep(MAX_METADATA_DEPTH - 2)).message).toBe('accepted');
  });

  it('refuses metadata holding more elements than the limit', () => {
    const many = metadata('<md:Extensions/>'.repeat(MAX_METADATA_MARKUP));
    expect(refusal(many)).toEqual({
      message: `the IdP metadata holds ${(MAX_METADATA_MARKUP + 7).toLocaleString('en-US')} XML elements, comments, processing instructions or CDATA sections; at most 5,000 are accepted`,
      parses: 0,
    });
    expect(refusal(metadata('<!---->'.repeat(MAX_METADATA_MARKUP))).message).toMatch(/XML elements, comments, processing instructions or CDATA sections/);
    expect(refusal(metadata('<md:Extensions/>'.repeat(MAX_METADATA_MARKUP - 100))).message).toBe('accepted');
  });

  it.each([
    [
      'nodes',
      metadata(`<md:Extensions>${'<a b="1" c="2" d="3"/>t'.repeat(4_000)}</md:Extensions>`),
      /holds 20,0\d\d XML nodes .*; at most 20,000 are accepted/,
    ],
    [
      'attributes on one element',
      metadata(`<a ${Array.from({ length: MAX_METADATA_ATTRIBUTES + 1 }, (_, i) => `b${i}="1"`).join(' ')}/>`),
      /an element with 257 attributes; at most 256/,
    ],
    ['namespace declarations', metadata('<a xmlns:p="urn:p"/>'.repeat(MAX_METADATA_NAMESPACES)), /holds 2,502 namespace declarations \(xmlns\); at most 2,500/],
    ['references', metadata(`<a>${'&#65;'.repeat(MAX_METADATA_REFERENCES + 1)}</a>`), /holds 10,001 entity or character references .*; at most 10,000/],
    [
      'distinct element names before a long text (the parser looks for each one’s last end tag from the end)',
      metadata(Array.from({ length: 100 }, (_, i) => `<a${i}></a${i}>`).join('') + `<p>${'x'.repeat(300_000)}</p>`),
      /too many distinct element names for its length: the XML parser would read 3\d,\d{3},\d{3} characters .*; at most 10,000,000/,
    ],
  ])('refuses too many %s, before parsing', (_what, xml, message) => {
    const { message: said, parses } = refusal(xml);
    expect(said).toMatch(message);
    expect(parses).toBe(0);
  });

  it('refuses what the parser would have to repair (it stops at its first complaint)', () => {
    // Bare attribute names: the parser makes each an attribute, which no count of `="` sees.
    expect(refusal(metadata('<a b c d/>'))).toEqual({ message: expect.stringMatching(/^the IdP metadata is not well-formed XML \(.+\)$/), parses: 1 });
    // A second root element, which the parser refuses through a walk of the document's children.
    expect(refusal(metadata() + '<a/>').message).toMatch(/^the IdP metadata is not well-formed XML \(.+\)$/);
  });

  it('accepts AD FS federation metadata: RoleDescriptors, 60 claim types, several certificates', () => {
    const xml = adfsMetadata({ claims: 60, signing, encryption });
    expect(xml.length).toBeGreaterThan(60_000);
    expect(parseIdpMetadata(xml)).toEqual({
      idpEntityId: 'http://adfs.contoso.test/adfs/services/trust',
      entryPoint: 'https://adfs.contoso.test/adfs/ls/',
      idpCerts: signing,
    });
  });

  it('accepts AD FS metadata of about 300 KB (300 claim types), indented or on one line', () => {
    for (const pretty of [true, false]) {
      const xml = adfsMetadata({ claims: 300, signing, encryption, pretty });
      expect(xml.length).toBeGreaterThan(280_000);
      expect(parseIdpMetadata(xml).idpCerts).toEqual(signing);
    }
  });
});

describe('createSamlConnection and updateSamlConnection: both metadata sources go through the bounds', () => {
  const rejection = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ScimSsoConfigError);
    return error as ScimSsoConfigError;
  };

  it('refuses unclosed metadata given as XML, with invalid_argument naming the limit', async () => {
    const sso = scimSso();
    const error = await rejection(sso.createSamlConnection({ customerId: 'xml', idpType: 'Generic', idpMetadataXml: unclosed(20_000), acsUrl }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(
      'createSamlConnection: the IdP metadata nests elements more than 32 deep, or leaves them unclosed; at most 32 levels are accepted',
    );
    expect(await sso.fetchSamlConnection('xml')).toBeNull();
  });

  it('refuses unclosed metadata fetched from the IdP’s URL, on create and on update', async () => {
    let body = unclosed(20_000);
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const idpMetadataUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
    try {
      const sso = scimSso({ allowHttpIssuers: true });
      const refused = await rejection(sso.createSamlConnection({ customerId: 'url', idpType: 'Generic', idpMetadataUrl, acsUrl }));
      expect(refused.code).toBe('invalid_argument');
      expect(refused.message).toMatch(/^createSamlConnection: the IdP metadata nests elements more than 32 deep, or leaves them unclosed/);

      body = adfsMetadata({ claims: 60, signing, encryption });
      const made = await sso.createSamlConnection({ customerId: 'url', idpType: 'Generic', idpMetadataUrl, acsUrl });
      expect(made.idpCerts).toHaveLength(2);

      body = unclosed(20_000);
      const update = await rejection(sso.updateSamlConnection('url', { idpMetadataUrl }));
      expect(update.message).toMatch(/^updateSamlConnection: the IdP metadata nests elements more than 32 deep/);
      expect((await sso.fetchSamlConnection('url'))?.idpCerts).toEqual(made.idpCerts);
    } finally {
      server.close();
    }
  });
});
