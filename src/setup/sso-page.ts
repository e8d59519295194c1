/**
 * The single sign-on page: the redirect URIs to register in the IdP, and the form for the IdP type, issuer,
 * client id, client secret and scopes. The stored secret is never shown back: an empty secret field keeps it.
 */
import { html } from '../dashboard/html.js';
import type { OidcClient } from '../oidc-clients.js';
import type { SamlConnection } from '../saml-connections.js';
import { copyable, csrfInput, portalLayout, type PortalContext } from './layout.js';

export interface SsoFormValues {
  idpType: string;
  issuer: string;
  clientId: string;
  scopes: string;
  /** Google only: the Workspace domains logins must carry (`hd`), separated by commas; '' for none. */
  workspaceDomains: string;
}

export interface SsoPageData {
  client: OidcClient | null;
  redirectUri: string;
  testRedirectUri: string;
  /** The form as sent, when it is shown again with an error. */
  values?: SsoFormValues;
  error?: string;
  saved?: boolean;
}

const TYPES = [
  { value: 'Okta', label: 'Okta' },
  { value: 'MicrosoftEntra', label: 'Microsoft Entra ID' },
  { value: 'Generic', label: 'Other OpenID Connect IdP (OneLogin, JumpCloud, …)' },
];

export function ssoPage(ctx: PortalContext, data: SsoPageData): string {
  const { client } = data;
  const values: SsoFormValues = data.values ?? {
    idpType: client?.idpType ?? 'Okta',
    issuer: client?.issuer ?? '',
    clientId: client?.clientId ?? '',
    scopes: (client?.scopes ?? ['openid', 'email', 'profile']).join(' '),
    workspaceDomains: (client?.requiredClaims.hd ?? []).join(', '),
  };
  const body = html`${data.saved ? html`<p class="status" role="status" id="saved">Saved. The issuer answered its discovery document; the next login uses these settings.</p>` : ''}
${data.error ? html`<p class="error" role="alert" id="sso-error">${data.error}</p>` : ''}
<section aria-labelledby="uris"><h2 id="uris">Register these redirect URIs in your IdP</h2>
<dl class="fields"><dt>Sign-in redirect URI</dt><dd>${copyable('redirect-uri', data.redirectUri, 'the sign-in redirect URI')}</dd>
<dt>Test redirect URI</dt><dd>${copyable('test-redirect-uri', data.testRedirectUri, 'the test redirect URI')}</dd></dl>
<p class="help">Create an OpenID Connect web application (authorization code flow) in your IdP with both URIs. The test one lets you try the login here without signing in to the app.</p></section>
<section aria-labelledby="client"><h2 id="client">Your IdP's application</h2>
<form method="post" action="${ctx.base}/sso">${csrfInput(ctx)}
<div class="field"><label for="idpType">Identity provider</label><select id="idpType" name="idpType">${TYPES.map(
    (t) => html`<option value="${t.value}"${t.value === values.idpType ? html` selected` : ''}>${t.label}</option>`,
  )}</select></div>
<div class="field"><label for="issuer">Issuer URL</label><input id="issuer" name="issuer" type="url" required maxlength="2000" value="${values.issuer}" aria-describedby="issuer-help">
<p class="help" id="issuer-help">Okta: https://your-org.okta.com (or …/oauth2/default). Entra: https://login.microsoftonline.com/&lt;tenant id&gt;/v2.0. It is checked live before saving.</p></div>
<div class="field"><label for="clientId">Client ID</label><input id="clientId" name="clientId" type="text" required maxlength="500" value="${values.clientId}" autocomplete="off"></div>
<div class="field"><label for="clientSecret">Client secret</label><input id="clientSecret" name="clientSecret" type="password" maxlength="2000" autocomplete="new-password" aria-describedby="secret-help">
<p class="help" id="secret-help">${client?.hasClientSecret ? 'A secret is stored (it is never shown). Leave this empty to keep it; a new issuer or client ID needs its secret entered again.' : 'Leave empty for a public client (PKCE only).'}</p></div>
<div class="field"><label for="scopes">Scopes</label><input id="scopes" name="scopes" type="text" maxlength="500" value="${values.scopes}" aria-describedby="scopes-help">
<p class="help" id="scopes-help">Space-separated; openid is always included.</p></div>
<div class="field"><label for="workspaceDomains">Google Workspace domains</label><input id="workspaceDomains" name="workspaceDomains" type="text" maxlength="2000" value="${values.workspaceDomains}" autocomplete="off" aria-describedby="domain-help">
<p class="help" id="domain-help">Only for Google (issuer https://accounts.google.com), and required there: your Workspace domains, such as example.com, separated by commas. Google signs logins for every Google account; those of other domains and personal accounts are refused.</p></div>
<button type="submit">Check and save</button></form></section>`;
  return portalLayout(ctx, 'sso', 'Single sign-on', body);
}

/**
 * The single sign-on page of a customer that signs in by SAML: the app created its SAML connection
 * (`createSamlConnection`), so the portal shows what the IdP needs, read-only, instead of the OIDC form.
 */
export function samlSsoPage(ctx: PortalContext, saml: SamlConnection): string {
  const metadataUrl = saml.acsUrl.replace(/\/acs$/, '/metadata');
  // The login step beside the ACS (<prefix>/<customerId>/saml/acs → <prefix>/<customerId>/login), when the ACS URL is of that shape.
  const loginUrl = saml.acsUrl.endsWith('/saml/acs') ? `${saml.acsUrl.slice(0, -'/saml/acs'.length)}/login` : null;
  const body = html`<p class="status" role="status" id="saml">Your organisation signs in to this app by SAML 2.0. The app manages the SAML connection; enter these values in your IdP's SAML application.</p>
<section aria-labelledby="sp"><h2 id="sp">Service provider values for your IdP</h2>
<dl class="fields"><dt>Entity ID (audience)</dt><dd>${copyable('sp-entity-id', saml.spEntityId, 'the entity ID')}</dd>
<dt>ACS (reply) URL</dt><dd>${copyable('acs-url', saml.acsUrl, 'the ACS URL')}</dd>
<dt>Metadata URL</dt><dd>${copyable('sp-metadata', metadataUrl, 'the metadata URL')}</dd>
${loginUrl === null ? '' : html`<dt>Sign on URL (optional)</dt><dd>${copyable('sign-on-url', loginUrl, 'the sign-on URL')}</dd>`}</dl>
${loginUrl === null ? '' : html`<p class="help">The sign-on URL starts a login at the app: Entra's "Sign on URL" field takes it, and the app's tile in My Apps then starts there. Tiles work without it too.</p>`}
<p class="help">Matching: <code>${saml.matchingStrategy}</code>${saml.matchingStrategy === 'SamlAttributeToScimExternalId' ? html` on the attribute <code>${saml.matchAttribute}</code>` : ''}. Signed ${saml.signed === 'both' ? 'responses and assertions' : `${saml.signed}s`} are required.</p></section>`;
  return portalLayout(ctx, 'sso', 'Single sign-on', body);
}
