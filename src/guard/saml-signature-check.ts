/**
 * A cheap first look at a SAMLResponse's signatures, before node-saml checks them (docs/saml.md §Bounds).
 *
 * node-saml checks a signature through xml-crypto, which parses the whole response again, canonicalises and
 * hashes the element the signature covers, and only then checks the signature value, once per configured
 * certificate. So a forged response within the node budget (450 elements) carrying two made-up signatures
 * cost it 100-160 ms with one certificate and three times that with three, for anyone who can post to the
 * ACS. A signature value is computed over the signature's SignedInfo alone, a few hundred bytes: when no
 * signature's SignedInfo verifies under any of the connection's certificates, node-saml's check cannot pass
 * either, and the response is refused here, in the time of the parse it already had.
 *
 * SignedInfo is canonicalised by xml-crypto itself (the same methods its checkSignature calls), so this never
 * disagrees with node-saml on a genuine response. Those methods are not in xml-crypto's typings: if a later
 * version lacks them, the look is skipped (null) and node-saml's full check decides, as before.
 */
import { SignedXml } from 'xml-crypto';

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** More signatures than this (a response and its assertion carry two) are refused before any is checked. */
export const MAX_SAML_SIGNATURES = 4;

/** The parts of xml-crypto's SignedXml that checkSignature uses before the references' digests. */
interface SignedInfoCheck {
  loadSignature(signature: Node): void;
  signatureValue?: string;
  signatureAlgorithm?: string;
  getCanonSignedInfoXml?: (doc: Document) => string;
  findSignatureAlgorithm?: (name: string | undefined) => { verifySignature(material: string, key: string, signatureValue: string): boolean };
}

/** Whether the signature's SignedInfo is signed by one of `certs` (PEM); null when xml-crypto cannot tell. */
function signedInfoVerifies(doc: Document, signature: Element, certs: readonly string[]): boolean | null {
  const signed = new SignedXml() as unknown as SignedInfoCheck;
  if (typeof signed.getCanonSignedInfoXml !== 'function' || typeof signed.findSignatureAlgorithm !== 'function') return null;
  try {
    signed.loadSignature(signature);
    const material = signed.getCanonSignedInfoXml(doc);
    const algorithm = signed.findSignatureAlgorithm(signed.signatureAlgorithm);
    const value = signed.signatureValue;
    if (typeof value !== 'string' || value === '') return false;
    return certs.some((cert) => {
      try {
        return algorithm.verifySignature(material, cert, value) === true;
      } catch {
        return false;
      }
    });
  } catch {
    // A signature xml-crypto cannot read (no SignedInfo, an unknown algorithm) fails its check as well.
    return false;
  }
}

/**
 * Null when the response may go on to node-saml's check: it has no signature (node-saml says what is
 * missing, at no cost), or one whose SignedInfo one of `certs` signed, or xml-crypto cannot tell; else why
 * it is refused.
 */
export function samlSignatureProblem(doc: Document, certs: readonly string[]): string | null {
  const signatures = doc.getElementsByTagNameNS(XMLDSIG, 'Signature');
  if (signatures.length === 0) return null;
  if (signatures.length > MAX_SAML_SIGNATURES) {
    return `the SAMLResponse holds ${signatures.length} XML signatures; at most ${MAX_SAML_SIGNATURES} are accepted`;
  }
  for (let i = 0; i < signatures.length; i++) {
    const verified = signedInfoVerifies(doc, signatures.item(i)!, certs);
    if (verified !== false) return null;
  }
  return 'Invalid signature: no signature of the SAMLResponse is made with a certificate of this connection';
}
