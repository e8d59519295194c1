/**
 * Reads what a SAML connection needs from an IdP's metadata document: its entity ID, its single sign-on
 * URL (HTTP-Redirect binding) and its signing certificates. Only reading: signatures on the metadata are not
 * checked (the admin supplies it, as they would paste the certificate). docs/saml.md §Connections.
 */
import { outboundFetch } from '../net/outbound-fetch.js';
import { parseXmlStrictly, scanXml } from './xml-bounds.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** The largest metadata document read (Entra's is about 20 kB; federation aggregates are not supported). */
export const MAX_METADATA_BYTES = 1_000_000;

/** How long the IdP's metadata URL has to answer, body included. */
const METADATA_FETCH_MS = 10_000;

/** At most this many signing certificates are kept (two while the IdP rotates, one spare). */
export const MAX_IDP_CERTS = 3;

/*
 * What metadata may cost xmldom, checked before it parses (scanXml, src/saml/xml-bounds.ts). Its time grows
 * faster than the document in places: 20,000 unclosed elements (60 KB) held the event loop 6–8 s, 2,000
 * distinct element names before 1 MB of text 1.1–1.3 s, 1 MB of empty elements 2.2 s, 200,000 character
 * references 167 ms (a hostile-tenant probe, 2026-12-07). AD FS's federation metadata is the largest real
 * single-entity document: two RoleDescriptors listing the claim types (ClaimType, DisplayName, Description,
 * a namespace declaration each), an IDPSSODescriptor listing them again as Attributes, several certificates
 * (test/support/adfs-metadata.ts). With 300 claim types (about 290 KB) it has 2,200 elements, 9,300 nodes
 * indented (6,500 on one line), 930 namespace declarations, 40 element names, 9 levels; with 60 claim types,
 * 78 KB, a quarter of that. Entra's per-app metadata (about 20 KB) and Okta's are far smaller. Each bound is
 * at least twice what the 300-claim document needs; the costliest documents built within all of them held
 * the event loop 30–45 ms (medians, on a loaded 2-core machine), and refusing 1 MB takes under 10 ms.
 */
/** The deepest nesting of elements (real metadata: under 15; N unclosed elements nest N deep). */
export const MAX_METADATA_DEPTH = 32;
/** The most elements, comments, processing instructions and CDATA sections. */
export const MAX_METADATA_MARKUP = 5_000;
/** The most DOM nodes of every kind (attributes and text as well). */
export const MAX_METADATA_NODES = 20_000;
/** The most attributes on one element (real metadata: about 10 at most, on the root). */
export const MAX_METADATA_ATTRIBUTES = 256;
/** The most namespace declarations (AD FS declares one on each ClaimType and Attribute: about 900 at 300 KB). */
export const MAX_METADATA_NAMESPACES = 2_500;
/** The most entity and character references (`&amp;`, `&#65;`): real metadata has a few, if any. */
export const MAX_METADATA_REFERENCES = 10_000;
/**
 * The most characters xmldom may read looking for end tags (XmlScan.endTagSearch): 10 element names closed
 * early in a 1 MB document. AD FS's needs 1–4 million: most of its names recur to the end of the document.
 */
export const MAX_METADATA_END_TAG_SEARCH = 10_000_000;

const count = (n: number) => n.toLocaleString('en-US');

/** Null when metadata (at most MAX_METADATA_BYTES, checked before) is within the bounds above, else what is wrong. */
function metadataOverBudget(xml: string): string | null {
  const scan = scanXml(xml, MAX_METADATA_DEPTH);
  if (scan.depth > MAX_METADATA_DEPTH)
    return `the IdP metadata nests elements more than ${MAX_METADATA_DEPTH} deep, or leaves them unclosed; at most ${MAX_METADATA_DEPTH} levels are accepted`;
  if (scan.markup > MAX_METADATA_MARKUP)
    return `the IdP metadata holds ${count(scan.markup)} XML elements, comments, processing instructions or CDATA sections; at most ${count(MAX_METADATA_MARKUP)} are accepted`;
  if (scan.nodes > MAX_METADATA_NODES)
    return `the IdP metadata holds ${count(scan.nodes)} XML nodes (elements, attributes, text and others); at most ${count(MAX_METADATA_NODES)} are accepted`;
  if (scan.attributes > MAX_METADATA_ATTRIBUTES)
    return `the IdP metadata has an element with ${count(scan.attributes)} attributes; at most ${MAX_METADATA_ATTRIBUTES} are accepted`;
  if (scan.namespaces > MAX_METADATA_NAMESPACES)
    return `the IdP metadata holds ${count(scan.namespaces)} namespace declarations (xmlns); at most ${count(MAX_METADATA_NAMESPACES)} are accepted`;
  if (scan.references > MAX_METADATA_REFERENCES)
    return `the IdP metadata holds ${count(scan.references)} entity or character references (&…;); at most ${count(MAX_METADATA_REFERENCES)} are accepted`;
  if (!scan.balanced) return 'the IdP metadata is not well-formed XML (its start and end tags do not match)';
  if (scan.endTagSearch > MAX_METADATA_END_TAG_SEARCH) {
    return `the IdP metadata has too many distinct element names for its length: the XML parser would read ${count(scan.endTagSearch)} characters looking for their end tags; at most ${count(MAX_METADATA_END_TAG_SEARCH)} are accepted`;
  }
  return null;
}

export interface IdpSettings {
  idpEntityId: string;
  entryPoint: string;
  idpCerts: string[];
}

/**
 * The metadata's IdP settings; throws an Error saying what is missing or malformed, or which bound above it
 * passes (before any parser sees it). Both sources go through here: the XML given, and the XML fetched.
 */
export function parseIdpMetadata(xml: string): IdpSettings {
  if (xml.length > MAX_METADATA_BYTES) throw new Error(`the IdP metadata is larger than ${MAX_METADATA_BYTES} characters`);
  if (/<!DOCTYPE/i.test(xml)) throw new Error('the IdP metadata must not contain a DOCTYPE');
  const overBudget = metadataOverBudget(xml);
  if (overBudget) throw new Error(overBudget);
  const doc = parseXmlStrictly(xml);
  if ('problem' in doc) throw new Error(`the IdP metadata is not well-formed XML (${doc.problem})`);
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== MD || root.localName !== 'EntityDescriptor') {
    throw new Error('the IdP metadata is not a SAML 2.0 EntityDescriptor');
  }
  const idpEntityId = root.getAttribute('entityID') ?? '';
  const descriptor = root.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  if (!idpEntityId || !descriptor) throw new Error('the IdP metadata has no entityID or no IDPSSODescriptor');
  const services = Array.from(descriptor.getElementsByTagNameNS(MD, 'SingleSignOnService'));
  const entryPoint = services.find((s) => s.getAttribute('Binding') === REDIRECT_BINDING)?.getAttribute('Location') ?? '';
  if (!entryPoint) throw new Error('the IdP metadata has no SingleSignOnService with the HTTP-Redirect binding');
  const idpCerts: string[] = [];
  for (const key of Array.from(descriptor.getElementsByTagNameNS(MD, 'KeyDescriptor'))) {
    const use = key.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const cert of Array.from(key.getElementsByTagNameNS(DS, 'X509Certificate'))) {
      const text = (cert.textContent ?? '').replace(/\s+/g, '');
      if (text && !idpCerts.includes(text)) idpCerts.push(text);
    }
  }
  if (idpCerts.length === 0) throw new Error('the IdP metadata has no signing certificate');
  if (idpCerts.length > MAX_IDP_CERTS) throw new Error(`the IdP metadata has more than ${MAX_IDP_CERTS} signing certificates`);
  return { idpEntityId, entryPoint, idpCerts };
}

/**
 * Fetches metadata from the IdP's URL through the outbound guard (src/net/outbound-fetch.ts): public
 * addresses only unless `allowPrivate` (the instance's allowPrivateIdpAddresses, or allowHttpIssuers), no redirects, at most
 * MAX_METADATA_BYTES, within METADATA_FETCH_MS.
 */
export async function fetchIdpMetadata(url: string, allowPrivate: boolean): Promise<string> {
  const response = await outboundFetch({ maxBytes: MAX_METADATA_BYTES, allowPrivate })(url, { signal: AbortSignal.timeout(METADATA_FETCH_MS) });
  if (!response.ok) throw new Error(`the IdP metadata URL answered ${response.status}`);
  return response.text();
}
