/**
 * A cheap first look at a SAMLResponse's signatures, before node-saml checks them (docs/saml.md §Bounds).
 *
 * node-saml checks a signature through xml-crypto, which parses the whole response again, canonicalises and
 * hashes the element the signature covers, and only then checks the signature value, once per configured
 * certificate. So a forged response within the node budget (450 elements) carrying two made-up signatures
 * cost it 100-160 ms with one certificate and three times that with three, for anyone who can post to the
 * ACS. A signature value is computed over the signature's SignedInfo alone, a few hundred bytes: every
 * signature must sit where node-saml checks one, name the element it sits in, and have its SignedInfo
 * verify under one of the connection's certificates, or the response is refused here, in the time of the
 * parse it already had. node-saml then checks with the certificates that signed (a signature copied from
 * another message the IdP signed verifies here, and only node-saml's digest refuses it: once per
 * certificate it tries).
 *
 * SignedInfo is canonicalised by xml-crypto itself (the same methods its checkSignature calls), so this never
 * disagrees with node-saml on a genuine response, with one exception: a response whose unrequired part is
 * signed with a key the connection does not hold (node-saml ignores that signature; here it is refused, with
 * the part named). Those methods are not in xml-crypto's typings: if a later version lacks them, the look is
 * skipped and node-saml's full check decides, with every certificate.
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

/** The certificate of `certs` (PEM) that signed the signature's SignedInfo, in a list (none: empty); null when xml-crypto cannot tell. */
function signedInfoSigners(doc: Document, signature: Element, certs: readonly string[]): string[] | null {
  const signed = new SignedXml() as unknown as SignedInfoCheck;
  if (typeof signed.getCanonSignedInfoXml !== 'function' || typeof signed.findSignatureAlgorithm !== 'function') return null;
  try {
    signed.loadSignature(signature);
    const material = signed.getCanonSignedInfoXml(doc);
    const algorithm = signed.findSignatureAlgorithm(signed.signatureAlgorithm);
    const value = signed.signatureValue;
    if (typeof value !== 'string' || value === '') return [];
    // The first that verifies: each check is a public-key operation, and one is enough to name the signer.
    const signer = certs.find((cert) => {
      try {
        return algorithm.verifySignature(material, cert, value) === true;
      } catch {
        return false;
      }
    });
    return signer === undefined ? [] : [signer];
  } catch {
    // A signature xml-crypto cannot read (no SignedInfo, an unknown algorithm) fails its check as well.
    return [];
  }
}

const SAML_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/**
 * Why a signature sits where node-saml never looks for one, or null: node-saml checks only a signature that
 * is a child of the response (the root) or of an assertion directly under it, whose one Reference names that
 * element's ID. A signature anywhere else, or naming another element, was never made for this response:
 * typically one copied from another message the IdP signed, whose SignedInfo verifies.
 */
function misplaced(signature: Element): string | null {
  const parent = signature.parentNode as Element | null;
  const root = signature.ownerDocument?.documentElement;
  const placed = parent === root || (parent?.localName === 'Assertion' && parent.namespaceURI === SAML_ASSERTION && parent.parentNode === root);
  if (!parent || !placed) return 'a signature sits where no SAML signature goes';
  const references = signature.getElementsByTagNameNS(XMLDSIG, 'Reference');
  const id = parent.getAttribute('ID');
  if (references.length !== 1 || !id || references.item(0)!.getAttribute('URI') !== `#${id}`) {
    return 'a signature does not name the element it signs';
  }
  return null;
}

/** What the look decided: why the response is refused, or the certificates node-saml should check it with. */
export type SignatureLook = { refused: string } | { certs: readonly string[] };

/**
 * Looks at every signature of a parsed response before node-saml does. Refused: more than
 * MAX_SAML_SIGNATURES; one placed where node-saml would not check it, naming another element, or beside
 * another on the same element; one whose SignedInfo none of `certs` signed. Otherwise the certificates that
 * signed them (node-saml checks with those alone, so a response costs its digests once, not once per
 * certificate), or all of `certs` when the response has no signature (node-saml says what is missing) or
 * xml-crypto cannot tell.
 */
export function lookAtSamlSignatures(doc: Document, certs: readonly string[]): SignatureLook {
  const signatures = doc.getElementsByTagNameNS(XMLDSIG, 'Signature');
  if (signatures.length === 0) return { certs };
  if (signatures.length > MAX_SAML_SIGNATURES) {
    return { refused: `the SAMLResponse holds ${signatures.length} XML signatures; at most ${MAX_SAML_SIGNATURES} are accepted` };
  }
  // Every signature's place first, before any public-key operation: one element signed twice (node-saml
  // refuses it) was four checks of the same signature per certificate for anyone holding one signed message.
  const signed = new Set<Node>();
  for (let i = 0; i < signatures.length; i++) {
    const signature = signatures.item(i)!;
    const problem = misplaced(signature) ?? (signed.has(signature.parentNode!) ? 'an element carries more than one signature' : null);
    if (problem) return { refused: `Invalid signature: ${problem}` };
    signed.add(signature.parentNode!);
  }
  const signers = new Set<string>();
  for (let i = 0; i < signatures.length; i++) {
    const signature = signatures.item(i)!;
    const verified = signedInfoSigners(doc, signature, certs);
    if (verified === null) return { certs };
    if (verified.length === 0) {
      const part = signature.parentNode === doc.documentElement ? 'response' : 'assertion';
      return {
        refused: `Invalid signature: the ${part}'s signature is not made with a certificate of this connection (add the certificate the IdP signs the ${part} with)`,
      };
    }
    for (const cert of verified) signers.add(cert);
  }
  return { certs: certs.filter((cert) => signers.has(cert)) };
}
