/**
 * An issuer configured as its discovery document's address (`…/.well-known/openid-configuration`).
 * openid-client accepts such an address in place of the issuer, and then does not compare the issuer the
 * document declares with the one configured: tokens of whatever issuer the document names would be trusted.
 * scim-sso refuses it when a client is saved, and at login for one stored before.
 */
export const DISCOVERY_ADDRESS_PROBLEM = 'the issuer is a discovery document\'s address (it holds "/.well-known/"): set the issuer the IdP declares in it';

export function isDiscoveryAddress(issuer: string): boolean {
  // As openid-client reads it: the parsed URL's href (`\` is `/` in an https URL), not the text as given.
  let href: string;
  try {
    href = new URL(issuer).href;
  } catch {
    return issuer.includes('/.well-known/');
  }
  return href.includes('/.well-known/');
}
