/**
 * Federation metadata shaped as AD FS publishes it (FederationMetadata/2007-06/FederationMetadata.xml): the
 * largest real single-entity IdP metadata. A signature, a WS-Federation ApplicationServiceType and a
 * SecurityTokenServiceType RoleDescriptor listing the claim types (ClaimType, DisplayName, Description), an
 * SPSSODescriptor, and an IDPSSODescriptor listing the claims again as Attributes; several certificates.
 */
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const FED = 'http://docs.oasis-open.org/wsfed/federation/200706';
const AUTH = 'http://docs.oasis-open.org/wsfed/authorization/200706';
const WSA = 'http://www.w3.org/2005/08/addressing';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export interface AdfsMetadataOptions {
  /** The host, as in https://adfs.contoso.test/adfs/ls/. */
  host?: string;
  /** Claim types each RoleDescriptor and the IDPSSODescriptor list (AD FS lists about 40 built in, plus custom ones). */
  claims?: number;
  /** Base64 signing certificates (the token-signing one, and its successor during a rollover). */
  signing: string[];
  /** The base64 token-decrypting certificate (also the metadata's own signer here). */
  encryption: string;
  /** Indented, one element a line (indenting adds a text node per element), or all on one line. */
  pretty?: boolean;
}

export function adfsMetadata({ host = 'adfs.contoso.test', claims = 60, signing, encryption, pretty = true }: AdfsMetadataOptions): string {
  const base = `https://${host}/adfs`;
  const nl = pretty ? '\n' : '';
  const keyInfo = (cert: string) => `<KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo>`;
  const key = (use: string, cert: string) => `<KeyDescriptor use="${use}">${keyInfo(cert)}</KeyDescriptor>${nl}`;
  const claimUri = (i: number) =>
    i % 3 === 0 ? `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/claim${i}` : `http://schemas.microsoft.com/ws/2008/06/identity/claims/claim${i}`;
  const claimTypes = Array.from(
    { length: claims },
    (_, i) =>
      `<auth:ClaimType Uri="${claimUri(i)}" Optional="true" xmlns:auth="${AUTH}">${nl}<auth:DisplayName>Claim ${i}</auth:DisplayName>${nl}` +
      `<auth:Description>The claim ${i} of the user, as issued by the claims provider trust</auth:Description>${nl}</auth:ClaimType>${nl}`,
  ).join('');
  const endpoint = (path: string) => `<EndpointReference xmlns="${WSA}"><Address>${base}${path}</Address></EndpointReference>`;
  const role = (type: string, inner: string) =>
    `<RoleDescriptor xsi:type="fed:${type}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="${FED}" ` +
    `protocolSupportEnumeration="${FED}" ServiceDisplayName="Contoso AD FS">${nl}${signing.map((c) => key('signing', c)).join('')}${inner}</RoleDescriptor>${nl}`;
  const nameIdFormats = [
    'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  ]
    .map((f) => `<NameIDFormat>${f}</NameIDFormat>${nl}`)
    .join('');
  const logout = `<SingleLogoutService Binding="${REDIRECT}" Location="${base}/ls/"/>${nl}<SingleLogoutService Binding="${POST}" Location="${base}/ls/"/>${nl}`;
  return (
    `<?xml version="1.0" encoding="utf-8"?>${nl}<EntityDescriptor ID="_6c3a1c2e-8f0b-4a52-9d1e-0a7c5b1e2f33" entityID="http://${host}/adfs/services/trust" xmlns="${MD}">${nl}` +
    `<ds:Signature xmlns:ds="${DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_6c3a1c2e-8f0b-4a52-9d1e-0a7c5b1e2f33">` +
    `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>q8XmfnYx3mJ1Ed0Sx5Xk9v3XjR7G2pWw0cW2Xh0tQ1E=</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
    `<ds:SignatureValue>${'Zm9vYmFy'.repeat(43)}</ds:SignatureValue>${keyInfo(encryption)}</ds:Signature>${nl}` +
    role(
      'ApplicationServiceType',
      `<fed:ClaimTypesRequested>${nl}${claimTypes}</fed:ClaimTypesRequested>${nl}<fed:TargetScopes>${nl}${endpoint('/services/trust/2005/issuedtokenmixedasymmetricbasic256')}${nl}` +
        `${endpoint('/services/trust/13/issuedtokenmixedsymmetricbasic256')}${nl}${endpoint('/ls/')}${nl}</fed:TargetScopes>${nl}` +
        `<fed:ApplicationServiceEndpoint>${endpoint('/services/trust/2005/issuedtokenmixedasymmetricbasic256')}</fed:ApplicationServiceEndpoint>${nl}` +
        `<fed:PassiveRequestorEndpoint>${endpoint('/ls/')}</fed:PassiveRequestorEndpoint>${nl}`,
    ) +
    role(
      'SecurityTokenServiceType',
      `<fed:TokenTypesOffered>${nl}${['urn:oasis:names:tc:SAML:2.0:assertion', 'urn:oasis:names:tc:SAML:1.0:assertion', 'urn:ietf:params:oauth:token-type:jwt']
        .map((t) => `<fed:TokenType Uri="${t}"/>${nl}`)
        .join('')}</fed:TokenTypesOffered>${nl}<fed:ClaimTypesOffered>${nl}${claimTypes}</fed:ClaimTypesOffered>${nl}` +
        `<fed:SecurityTokenServiceEndpoint><EndpointReference xmlns="${WSA}"><Address>${base}/services/trust/2005/certificatemixed</Address>` +
        `<Metadata><Metadata xmlns="http://schemas.xmlsoap.org/ws/2004/09/mex" xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex">` +
        `<wsx:MetadataSection><wsx:MetadataReference><Address>${base}/services/trust/mex</Address></wsx:MetadataReference></wsx:MetadataSection>` +
        `</Metadata></Metadata></EndpointReference></fed:SecurityTokenServiceEndpoint>${nl}<fed:PassiveRequestorEndpoint>${endpoint('/ls/')}</fed:PassiveRequestorEndpoint>${nl}`,
    ) +
    `<SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${nl}${key('encryption', encryption)}` +
    `${signing.map((c) => key('signing', c)).join('')}${logout}${nameIdFormats}` +
    [0, 1, 2].map((i) => `<AssertionConsumerService Binding="${POST}" Location="${base}/ls/" index="${i}" isDefault="${i === 0}"/>${nl}`).join('') +
    `</SPSSODescriptor>${nl}<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${nl}${key('encryption', encryption)}` +
    `${signing.map((c) => key('signing', c)).join('')}${logout}${nameIdFormats}` +
    `<SingleSignOnService Binding="${REDIRECT}" Location="${base}/ls/"/>${nl}<SingleSignOnService Binding="${POST}" Location="${base}/ls/"/>${nl}` +
    Array.from(
      { length: claims },
      (_, i) =>
        `<Attribute Name="${claimUri(i)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="Claim ${i}" xmlns="urn:oasis:names:tc:SAML:2.0:assertion"/>${nl}`,
    ).join('') +
    `</IDPSSODescriptor>${nl}<ContactPerson contactType="support"/>${nl}</EntityDescriptor>`
  );
}
