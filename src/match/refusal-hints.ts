/**
 * What the customer's IT admin can do about a refused login (the setup portal's and the dashboard's
 * activity log, docs/activity.md): one sentence per refusal reason, naming the IdP mapping the customer's
 * matching strategy reads. Pure; strategies it does not know get the reason's general advice.
 */

/** The SCIM attribute and the IdP claim each strategy compares, in the admin's words. */
const COMPARED: Record<string, { claim: string; scim: string; mapping: string }> = {
  OidcSubToScimUsername: {
    claim: 'the subject claim',
    scim: 'userName',
    mapping: 'map the SCIM userName to the same value the IdP sends as the OIDC subject',
  },
  OidcSubToScimExternalId: {
    claim: 'the subject claim',
    scim: 'externalId',
    mapping: "map the SCIM externalId to the user's object id (Entra: externalId ← objectId; Okta: externalId is Okta's user id)",
  },
  OidcEmailToScimUsername: {
    claim: 'the email claim',
    scim: 'userName',
    mapping: 'send the email address as the SCIM userName (Okta: Application username format "Email"; Entra: userName ← mail when the UPN differs from it)',
  },
  OidcEmailUsernameToScimUsername: {
    claim: 'the local part of the email claim',
    scim: 'the local part of userName',
    mapping: 'send a SCIM userName whose part before "@" is the same as the email\'s',
  },
  SamlNameIdToScimUsername: {
    claim: 'the SAML NameID',
    scim: 'userName',
    mapping:
      'send the same value as the SAML NameID and as the SCIM userName (Okta: Name ID format EmailAddress with the Okta username; Entra: NameID user.userprincipalname)',
  },
  SamlNameIdToScimExternalId: {
    claim: 'the SAML NameID',
    scim: 'externalId',
    mapping: 'send the same value as the SAML NameID and as the SCIM externalId (Entra: NameID user.objectid with externalId ← objectId)',
  },
  SamlEmailToScimUsername: {
    claim: 'the email attribute of the assertion',
    scim: 'userName',
    mapping: "send the email address as the SCIM userName and as the assertion's email attribute",
  },
  SamlAttributeToScimExternalId: {
    claim: "the connection's match attribute (Entra: http://schemas.microsoft.com/identity/claims/objectidentifier)",
    scim: 'externalId',
    mapping: "map the SCIM externalId to the user's object id (Entra: externalId ← objectId)",
  },
  OidcPreferredUsernameToScimUsername: {
    claim: 'the preferred_username claim',
    scim: 'userName',
    mapping: 'send the same value as the SCIM userName and as preferred_username (Entra: the UPN)',
  },
};

/** A fix hint for a refused login: `reason` is a ScimUserNotActive reason or an SsoLoginError code. */
export function refusalHint(reason: string, strategy: string | null): string {
  const compared = strategy !== null && Object.hasOwn(COMPARED, strategy) ? COMPARED[strategy] : undefined;
  switch (reason) {
    case 'deactivated':
      return 'The person is deactivated in your IdP (SCIM active=false). Reactivate them, or assign them to the app again, if they should have access.';
    case 'deleted':
      return 'Your IdP deleted this person from the app (unassigned, or removed from the provisioning scope). Assign them to the app again; the IdP then provisions them anew.';
    case 'not_provisioned':
      return compared
        ? `No SCIM user has ${compared.scim} equal to ${compared.claim}. Check that the person is assigned to the app's provisioning and has been pushed, then ${compared.mapping}. The matching report shows which strategy would match your users.`
        : "No SCIM user matches this person. Check that they are assigned to the app's provisioning and that the attribute mapping sends the value the matching strategy compares.";
    case 'ambiguous':
      return compared
        ? `Several SCIM users have ${compared.scim} equal to ${compared.claim}. Remove the duplicates in your IdP, or ask for a strategy on a unique attribute (the subject or externalId).`
        : 'Several SCIM users match this person. Remove the duplicates, or use a strategy on a unique attribute.';
    case 'idp_error':
      return 'Your IdP answered the login with an error. Check that the person is assigned to the application and that the client id, secret and redirect URI match.';
    case 'access_denied':
      return 'Your IdP refused the person (access_denied): assign them to the application in the IdP.';
    case 'missing_claim':
      return compared
        ? `The IdP did not send ${compared.claim}, which the matching strategy needs. Add it to the scopes or the claims the IdP issues for this application.`
        : 'The IdP did not send a claim the matching strategy needs. Add it to the scopes or the claims the IdP issues.';
    case 'outside_tenant':
      return "The person signed in with an account outside your organisation's tenant (for Google: not your Workspace domain). Sign in with the organisation's account, or add the tenant to the SSO settings' required claims.";
    case 'invalid_response':
      return "The answer of your IdP failed validation: for OIDC check the issuer, client id and secret; for SAML the IdP's signing certificate, entity ID and the app's ACS URL; for both, the IdP's clock.";
    case 'token_exchange_failed':
      return 'Your IdP refused to exchange the login code: check the client id and secret.';
    case 'idp_unreachable':
    case 'store_unavailable':
      return 'A service was unreachable during the login; it is usually temporary. Try again in a minute.';
    case 'unknown_customer':
      return 'This customer has no SSO connection configured yet.';
    default:
      return 'The login did not complete. Check the SSO settings (issuer, client id, secret, redirect URI) and try again.';
  }
}
