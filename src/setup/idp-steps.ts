/**
 * What the customer's IT admin types into their IdP to provision users over SCIM, per IdP, and the attribute
 * mapping the customer's matching strategy needs so that an SSO login finds the SCIM user (src/match/strategies.ts).
 * The IdPs' behaviour is in docs/idp-behaviour.md (§Okta, §Entra, §OneLogin, §JumpCloud). Pure data.
 */
import type { MatchingStrategy } from '../match/strategies.js';

export const SETUP_IDPS = ['okta', 'entra', 'onelogin', 'jumpcloud'] as const;
export type SetupIdp = (typeof SETUP_IDPS)[number];

export const IDP_NAMES: Record<SetupIdp, string> = { okta: 'Okta', entra: 'Microsoft Entra ID', onelogin: 'OneLogin', jumpcloud: 'JumpCloud' };

export const isSetupIdp = (value: unknown): value is SetupIdp => typeof value === 'string' && (SETUP_IDPS as readonly string[]).includes(value);

/** The portal's IdP for a stored client's IdP type (Generic has no page of its own: Okta's steps are the closest). */
export const idpOfType = (idpType: string | null | undefined): SetupIdp => (idpType === 'MicrosoftEntra' ? 'entra' : 'okta');

/** One field to fill in the IdP: where, its label there, and the value (`copy` marks a value to copy as is). */
export interface IdpField {
  label: string;
  value: string;
  copy?: boolean;
}

export interface IdpStep {
  title: string;
  /** Plain text. */
  detail?: string;
  fields?: IdpField[];
}

/** The SCIM attribute ← IdP attribute mapping a strategy needs in one IdP, in that IdP's own words. */
export interface AttributeMapping {
  scimAttribute: 'userName' | 'externalId';
  idpAttribute: string;
  /** Why, in one sentence. */
  because: string;
}

/** The login claim a strategy compares, and the SCIM attribute it compares it with. */
export function comparedBy(strategy: MatchingStrategy, subjectClaim: string): { claim: string; scimAttribute: 'userName' | 'externalId'; localPart: boolean } {
  switch (strategy) {
    case 'OidcSubToScimUsername':
      return { claim: subjectClaim, scimAttribute: 'userName', localPart: false };
    case 'OidcSubToScimExternalId':
      return { claim: subjectClaim, scimAttribute: 'externalId', localPart: false };
    case 'OidcEmailToScimUsername':
      return { claim: 'email', scimAttribute: 'userName', localPart: false };
    case 'OidcEmailUsernameToScimUsername':
      return { claim: 'email', scimAttribute: 'userName', localPart: true };
    case 'OidcPreferredUsernameToScimUsername':
      return { claim: 'preferred_username', scimAttribute: 'userName', localPart: false };
  }
}

/**
 * The IdP attribute that ends up in the login claim the strategy compares, for the mapping line, in the words
 * of the IdP's admin console (where each IdP sets it: the steps' mapping detail). Checked against the IdPs'
 * documentation on 2026-12-06 (docs/setup-portal.md, "The IdPs' own words").
 */
function sourceAttribute(idp: SetupIdp, strategy: MatchingStrategy): string {
  const { claim, localPart } = comparedBy(strategy, 'sub');
  const subject = claim === 'sub';
  switch (idp) {
    case 'okta':
      // An Okta SCIM app's userName is its Application username (Sign On tab), not an attribute mapping.
      if (subject) return 'the Okta user id (user.getInternalProperty("id"), the ID token’s sub)';
      if (claim === 'email')
        return localPart
          ? 'the email or its part before "@" (Application username format: Email, or Email prefix)'
          : 'the email (Application username format: Email)';
      return 'the Okta username (Application username format: Okta username, the default)';
    case 'entra':
      return subject ? 'objectId (the ID token’s oid)' : claim === 'email' ? 'mail' : 'userPrincipalName (the ID token’s preferred_username)';
    case 'onelogin':
      if (subject) return 'the OneLogin user id ({$user.id}, the ID token’s sub)';
      return claim === 'email' ? 'Email (Parameters → SCIM Username)' : 'Username (Parameters → SCIM Username)';
    case 'jumpcloud':
      // JumpCloud sends its username as userName, and its usernames cannot hold "@".
      if (subject) return 'the JumpCloud user id';
      return claim === 'email' ? (localPart ? 'username (equal to the part of the email before "@")' : 'username (which cannot hold an email)') : 'username';
  }
}

/** The mapping the strategy needs in the IdP's SCIM app. */
export function mappingFor(idp: SetupIdp, strategy: MatchingStrategy): AttributeMapping {
  const { claim, scimAttribute, localPart } = comparedBy(strategy, 'sub');
  const source = sourceAttribute(idp, strategy);
  const because = localPart
    ? `the app compares the part before "@" of the login's email with the part before "@" of the SCIM userName.`
    : `the app compares the login's ${claim === 'sub' ? (idp === 'entra' ? 'oid' : 'sub') : claim} claim with the SCIM ${scimAttribute}.`;
  return { scimAttribute, idpAttribute: source, because };
}

export interface StepsInput {
  idp: SetupIdp;
  scimBaseUrl: string;
  strategy: MatchingStrategy;
  appName: string;
}

/** The steps for one IdP, with the exact fields. The token itself is shown separately (once). */
export function scimSteps({ idp, scimBaseUrl, strategy, appName }: StepsInput): IdpStep[] {
  const mapping = mappingFor(idp, strategy);
  const mapStep: IdpStep = {
    title: `Map ${mapping.scimAttribute} ← ${mapping.idpAttribute}`,
    detail: `Needed for single sign-on: ${mapping.because}`,
  };
  // Okta and Entra provision through an app of their own: neither adds SCIM to the OpenID Connect app people
  // sign in with (Okta: SAML or SWA integrations only; Entra: not to an app registration's enterprise app).
  const provisioningApp = `${appName} provisioning`;
  switch (idp) {
    case 'okta':
      return [
        {
          title: `In the Okta Admin Console, create the app that provisions (Okta cannot add SCIM to an OpenID Connect app): Applications → Applications → Create App Integration → SWA (or SAML 2.0), named "${provisioningApp}", with "Do not display application icon to users" ticked.`,
        },
        { title: 'In it: General → App Settings → Edit → Provisioning: SCIM (older consoles: tick "Enable SCIM provisioning"), Save.' },
        {
          title: 'Open the Provisioning tab → Integration → Edit, and fill in:',
          fields: [
            { label: 'SCIM connector base URL', value: scimBaseUrl, copy: true },
            { label: 'Unique identifier field for users', value: 'userName', copy: true },
            { label: 'Supported provisioning actions', value: 'Push New Users, Push Profile Updates, Push Groups' },
            { label: 'Authentication Mode', value: 'HTTP Header' },
            { label: 'Authorization (Bearer)', value: 'the SCIM token above' },
          ],
          detail: 'Test Connector Configuration, then Save.',
        },
        { title: 'Provisioning → To App → Edit: enable Create Users, Update User Attributes and Deactivate Users, Save.' },
        {
          ...mapStep,
          detail: `${mapStep.detail} In Okta: ${strategy === 'OidcSubToScimExternalId' ? `Directory → Profile Editor → ${provisioningApp}: if it has no externalId attribute, Add Attribute (variable and external name externalId, external namespace urn:ietf:params:scim:schemas:core:2.0:User); then Mappings → Okta User to ${provisioningApp}: externalId ← user.getInternalProperty("id"), Save` : `${provisioningApp} → Sign On → Edit → Credentials Details → Application username format: ${oktaFormat(strategy)} → Save (Update now, for people already assigned)`}. Okta never deletes users: it deactivates them, and the app then refuses their login.`,
        },
        {
          title: `Assignments: assign the same people (or groups) as the ${appName} sign-in app; Push Groups for the groups the app should see.`,
        },
      ];
    case 'entra':
      return [
        {
          title: `In the Microsoft Entra admin center, create the app that provisions (Entra cannot provision through the app registration people sign in with): Enterprise applications → New application → Create your own application → "${provisioningApp}", "Integrate any other application you don't find in the gallery (Non-gallery)" → Create.`,
        },
        {
          title: 'Open it → Provisioning → New configuration (older screens: Get started, Provisioning Mode: Automatic, Admin Credentials), and fill in:',
          fields: [
            { label: 'Tenant URL', value: scimBaseUrl, copy: true },
            { label: 'Secret Token', value: 'the SCIM token above' },
          ],
          detail: 'Test connection (it looks up a random user and expects none), then Create (older screens: Save).',
        },
        {
          ...mapStep,
          detail: `${mapStep.detail} In Entra: Attribute mapping (older screens: Mappings) → Provision Microsoft Entra ID Users → ${entraMapping(mapping)}${strategy === 'OidcSubToScimExternalId' ? ' Entra’s ID-token sub is different per application; objectId (the oid claim) is the same in every app of the tenant, this one and the sign-in app alike.' : ''}`,
        },
        {
          title:
            'Users and groups: assign the same people (or groups) as the sign-in app; then Provisioning → Start provisioning (older screens: Provisioning Status On, Save). Entra syncs about every 40 minutes.',
        },
      ];
    case 'onelogin':
      return [
        {
          title:
            'In OneLogin, Applications → Add App → "SCIM Provisioner with SAML (SCIM v2 Core)" → Save (it only provisions, beside your OpenID Connect app; nobody signs in through it); then its Configuration tab.',
        },
        {
          title: 'Fill in:',
          fields: [
            { label: 'SCIM Base URL', value: scimBaseUrl, copy: true },
            { label: 'SCIM Bearer Token', value: 'the SCIM token above' },
          ],
          detail: 'Click Enable under API Connection.',
        },
        {
          ...mapStep,
          detail: `${mapStep.detail} In OneLogin: ${mapping.idpAttribute.includes('SCIM Username') ? `the Parameters tab → SCIM Username: ${mapping.idpAttribute.split(' ')[0]} (the SCIM JSON Template sends it as userName).` : `the SCIM JSON Template decides it: set "${mapping.scimAttribute}" to ${mapping.idpAttribute}.`}`,
        },
        {
          title: 'Provisioning tab: tick "Enable provisioning", choose what happens when a user is deleted or suspended (both work), Save; then assign users.',
        },
      ];
    case 'jumpcloud':
      return [
        { title: `In the JumpCloud Admin Portal, open SSO Applications → ${appName} → Identity Management.` },
        {
          title: 'Choose SCIM 2.0 and fill in:',
          fields: [
            { label: 'Base URL', value: scimBaseUrl, copy: true },
            { label: 'Token Key', value: 'the SCIM token above' },
          ],
          detail: 'Test Connection creates a test user and group and deletes them again; then Activate and Save.',
        },
        { ...mapStep, detail: `${mapStep.detail} ${jumpCloudMapping(strategy)}` },
        { title: 'User Groups: bind the groups whose members use the app.' },
      ];
  }
}

/** The Application username format that makes an Okta SCIM app send the userName a strategy compares. */
function oktaFormat(strategy: MatchingStrategy): string {
  switch (strategy) {
    case 'OidcEmailToScimUsername':
      return 'Email';
    case 'OidcEmailUsernameToScimUsername':
      return 'Email (or Email prefix)';
    case 'OidcPreferredUsernameToScimUsername':
      return 'Okta username (the default)';
    default:
      return 'Custom, user.getInternalProperty("id")';
  }
}

/** Entra's provisioning app maps externalId ← mailNickname and userName ← userPrincipalName by default: the row to edit. */
function entraMapping(mapping: AttributeMapping): string {
  const source = mapping.idpAttribute.split(' ')[0]!;
  const current = mapping.scimAttribute === 'externalId' ? 'mailNickname' : 'userPrincipalName';
  if (source === current) return `the ${mapping.scimAttribute} row already maps ${source} (the default): keep it.`;
  return `edit the existing ${mapping.scimAttribute} row (by default ${current}): Source attribute ${source}, OK, Save.`;
}

/** What a strategy needs of JumpCloud, which sends its username (never holding "@") as userName and lets no one choose externalId. */
function jumpCloudMapping(strategy: MatchingStrategy): string {
  switch (strategy) {
    case 'OidcEmailToScimUsername':
      return 'JumpCloud sends the username as userName, and its usernames cannot hold "@": with this strategy no login can match. Ask the app’s team for OidcEmailUsernameToScimUsername (usernames equal to the part of the email before "@") or OidcPreferredUsernameToScimUsername.';
    case 'OidcEmailUsernameToScimUsername':
      return 'JumpCloud sends the username as userName: make each username the part of the person’s email before "@".';
    case 'OidcPreferredUsernameToScimUsername':
      return 'JumpCloud sends the username as userName; its OpenID Connect app does not send preferred_username by default: SSO tab → Attribute Mapping → add preferred_username ← username, Save.';
    default:
      return 'JumpCloud does not let you choose externalId or userName: ask the app’s team to switch this customer to OidcPreferredUsernameToScimUsername.';
  }
}
