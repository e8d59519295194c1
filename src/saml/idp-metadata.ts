/**
 * Reads what a SAML connection needs from an IdP's metadata document: its entity ID, its single sign-on
 * URL (HTTP-Redirect binding) and its signing certificates. Only reading: signatures on the metadata are not
 * checked (the admin supplies it, as they would paste the certificate). docs/saml.md §Connections.
 */
import { DOMParser } from '@xmldom/xmldom';
import { outboundFetch } from '../net/outbound-fetch.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** The largest metadata document read (Entra's is about 20 kB; federation aggregates are not supported). */
export const MAX_METADATA_BYTES = 1_000_000;
/** At most this many signing certificates are kept (two while the IdP rotates, one spare). */
export const MAX_IDP_CERTS = 3;

export interface IdpSettings {
  idpEntityId: string;
  entryPoint: string;
  idpCerts: string[];
}

/** The metadata's IdP settings; throws an Error saying what is missing or malformed. */
export function parseIdpMetadata(xml: string): IdpSettings {
  if (xml.length > MAX_METADATA_BYTES) throw new Error(`the IdP metadata is larger than ${MAX_METADATA_BYTES} characters`);
  if (/<!DOCTYPE/i.test(xml)) throw new Error('the IdP metadata must not contain a DOCTYPE');
  const errors: string[] = [];
  const record = (message: string) => void errors.push(message);
  const doc = new DOMParser({ errorHandler: { warning: () => {}, error: record, fatalError: record } }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (errors.length || !root || root.namespaceURI !== MD || root.localName !== 'EntityDescriptor') {
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
 * MAX_METADATA_BYTES, within `timeoutMs`.
 */
export async function fetchIdpMetadata(url: string, allowPrivate: boolean, timeoutMs = 10_000): Promise<string> {
  const response = await outboundFetch({ maxBytes: MAX_METADATA_BYTES, allowPrivate })(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`the IdP metadata URL answered ${response.status}`);
  return response.text();
}
