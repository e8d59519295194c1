/**
 * Which IdP certificates a signature check can afford. Checking an RSA signature costs in proportion to the
 * public exponent's length: every IdP uses 65537 (17 bits), but X.509 allows an exponent as long as the
 * modulus, and one of 3,056 bits made each check 7.7 ms instead of 0.3, in the ACS that checks every post
 * anyone makes, on the loop every tenant shares (an audit, 2026-12-07). xml-crypto checks RSA signatures
 * only (PKCS#1 v1.5 and PSS): a certificate with any other key would never let a login through, so it is
 * refused when saved, with the reason, instead of failing every login after.
 */
import { X509Certificate } from 'node:crypto';
import { Lru } from '../lru.js';

/** The longest RSA public exponent accepted, in bits (65537 has 17). */
export const MAX_RSA_EXPONENT_BITS = 32;
/** The longest RSA modulus accepted, in bits (IdPs sign with 2,048 or 4,096). */
export const MAX_RSA_MODULUS_BITS = 8192;

/** Why a certificate's key is refused for checking SAML signatures, or null when it is accepted. */
export function signingKeyProblem(cert: X509Certificate): string | null {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'rsa-pss') return `its key type (${type ?? 'unknown'}) cannot check SAML signatures here; use an RSA certificate`;
  const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {};
  const exponentBits = publicExponent.toString(2).length;
  if (exponentBits > MAX_RSA_EXPONENT_BITS)
    return `its RSA public exponent has ${exponentBits} bits; at most ${MAX_RSA_EXPONENT_BITS} are accepted (IdPs use 65537)`;
  if (modulusLength > MAX_RSA_MODULUS_BITS) return `its RSA key has ${modulusLength} bits; at most ${MAX_RSA_MODULUS_BITS} are accepted`;
  return null;
}

/** Whether each certificate (PEM) was accepted, for the ACS: parsed once per certificate, not per post. */
const accepted = new Lru<string, boolean>(1_000);

/**
 * The certificates of a stored connection that signature checks may use: all of them for a connection made
 * by this version (signingKeyProblem refused the others when it was saved); one saved before that check
 * holding an unaffordable key has that key ignored, so its responses are refused as not signed by it.
 */
export function affordableCerts(pems: readonly string[]): readonly string[] {
  return pems.filter((pem) => {
    let ok = accepted.get(pem);
    if (ok === undefined) {
      try {
        ok = signingKeyProblem(new X509Certificate(pem)) === null;
      } catch {
        ok = false;
      }
      accepted.set(pem, ok);
    }
    return ok;
  });
}
