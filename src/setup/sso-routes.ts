/**
 * The setup portal's single sign-on page: `GET sso` (redirect URIs and the IdP form; a SAML customer's SP
 * values, read only) and `POST sso` (the issuer checked live, then the OIDC client created or updated).
 */
import type { DashboardResponse } from '../dashboard/index.js';
import { ScimSsoConfigError } from '../errors.js';
import { privateIdpAddressesAllowed } from '../options.js';
import { checkIssuer } from './discovery-check.js';
import type { Portal, PortalTurn } from './portal-turn.js';
import { parseSsoForm, withWorkspaceDomains } from './sso-form.js';
import { samlSsoPage, ssoPage, type SsoFormValues } from './sso-page.js';

/** The answer to the single sign-on page (GET or POST). */
export async function ssoRoute(portal: Portal, turn: PortalTurn): Promise<DashboardResponse> {
  const { sso } = portal;
  const { customerId, ctx } = turn;
  // A SAML customer: the app manages its connection; the portal shows the SP values and changes nothing.
  const saml = await sso.fetchSamlConnection(customerId);
  if (saml) {
    return turn.method === 'GET'
      ? turn.page(200, samlSsoPage(ctx, saml))
      : turn.fail(409, 'Conflict', 'This organisation signs in by SAML; the app manages its SAML connection.');
  }
  const uris = { redirectUri: portal.loginRedirectUri(customerId), testRedirectUri: portal.testRedirectUri(customerId) };
  if (turn.method === 'GET') {
    return turn.page(200, ssoPage(ctx, { client: await sso.fetchOidcClient(customerId), ...uris, saved: turn.request.query.get('saved') === '1' }));
  }
  return saveOidcClient(portal, turn, uris);
}

/** POST sso: the form checked, the issuer's discovery fetched, then the client saved; a problem is said on the form. */
async function saveOidcClient(portal: Portal, turn: PortalTurn, uris: { redirectUri: string; testRedirectUri: string }): Promise<DashboardResponse> {
  const { sso, store, audit } = portal;
  const { customerId, ctx } = turn;
  const again = async (status: number, error: string, values: SsoFormValues) =>
    turn.page(status, ssoPage(ctx, { client: await sso.fetchOidcClient(customerId), ...uris, values, error }));
  const parsed = parseSsoForm(turn.form);
  if (!parsed.ok) {
    audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'invalid_form' });
    return again(400, parsed.error, parsed.values);
  }
  const { values, clientSecret, scopes, workspaceDomains } = parsed;
  const stored = await store.getOidcClient(customerId);
  if (stored?.clientSecret && !clientSecret && (stored.issuer !== values.issuer || stored.clientId !== values.clientId)) {
    // The stored secret belongs to one IdP application: kept for another issuer or client ID, the next
    // token request would hand it to whoever runs that issuer (anyone holding a setup link).
    audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'secret_required' });
    return again(
      400,
      'The issuer or client ID changed: enter the client secret of that application (the stored secret is kept only for the same issuer and client ID).',
      values,
    );
  }
  const check = await checkIssuer(values.issuer, values.clientId, portal.options.allowHttpIssuers, privateIdpAddressesAllowed(portal.options));
  if (!check.ok) {
    audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'discovery_failed' });
    return again(400, check.problem, values);
  }
  const settings = {
    idpType: values.idpType as 'Okta' | 'MicrosoftEntra' | 'Generic',
    issuer: values.issuer,
    clientId: values.clientId,
    scopes,
    requiredClaims: withWorkspaceDomains(stored?.requiredClaims ?? {}, workspaceDomains),
  };
  try {
    if (stored) {
      await sso.updateOidcClient(customerId, { ...settings, ...(clientSecret ? { clientSecret } : {}) });
    } else {
      await sso.createOidcClient({ customerId, ...settings, redirectUri: uris.redirectUri, ...(clientSecret ? { clientSecret } : {}) });
    }
  } catch (error) {
    // A setting the client refuses (Google's issuer without a Workspace domain): said on the form.
    if (!(error instanceof ScimSsoConfigError) || error.code !== 'invalid_argument') throw error;
    audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'invalid_form' });
    return again(400, error.message.replace(/^(?:create|update)OidcClient: /, ''), values);
  }
  audit({ type: 'setup.oidc_client_saved', outcome: 'success', customerId });
  return turn.redirect(`${ctx.base}/sso?saved=1`);
}
