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

/** The IdP attribute that ends up in the login claim the strategy compares, for the mapping line. */
function sourceAttribute(idp: SetupIdp, strategy: MatchingStrategy): string {
  const { claim } = comparedBy(strategy, 'sub');
  const subject = claim === 'sub';
  switch (idp) {
    case 'okta':
      return subject ? 'the Okta user id (user.id, the ID token’s sub)' : claim === 'email' ? 'user.email' : 'user.login (Okta Username)';
    case 'entra':
      return subject ? 'objectId (the ID token’s oid)' : claim === 'email' ? 'mail' : 'userPrincipalName (the ID token’s preferred_username)';
    case 'onelogin':
      return subject ? 'the OneLogin user id ({$user.id})' : claim === 'email' ? 'Email ({$user.email})' : 'Username ({$user.username})';
    case 'jumpcloud':
      return subject ? 'the JumpCloud user id' : claim === 'email' ? 'email' : 'username';
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
  switch (idp) {
    case 'okta':
      return [
        {
          title: `In the Okta Admin Console, open Applications → ${appName} → General → App Settings, tick "Enable SCIM provisioning", Save.`,
        },
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
          detail: `${mapStep.detail} In Okta: Provisioning → To App → ${appName} Attribute Mappings${strategy === 'OidcSubToScimExternalId' ? ' (Okta sends its user id as externalId by itself; keep it)' : ''}. Okta never deletes users: it deactivates them, and the app then refuses their login.`,
        },
        { title: `Assignments: assign the people (or groups) who use ${appName}; Push Groups for the groups the app should see.` },
      ];
    case 'entra':
      return [
        {
          title: `In the Microsoft Entra admin center, open Enterprise applications → ${appName} → Provisioning → Get started; Provisioning Mode: Automatic.`,
        },
        {
          title: 'Under Admin Credentials, fill in:',
          fields: [
            { label: 'Tenant URL', value: scimBaseUrl, copy: true },
            { label: 'Secret Token', value: 'the SCIM token above' },
          ],
          detail: 'Test Connection (it looks up a random user and expects none), then Save.',
        },
        {
          ...mapStep,
          detail: `${mapStep.detail} In Entra: Mappings → Provision Microsoft Entra ID Users → Add New Mapping (or edit): Source attribute ${mapping.idpAttribute.split(' ')[0]}, Target attribute ${mapping.scimAttribute}.${strategy === 'OidcSubToScimExternalId' ? ' Entra’s ID-token sub is different per application; objectId is the one identifier both sides share.' : ''}`,
        },
        { title: 'Users and groups: assign the people who use the app; then set Provisioning Status to On and Save.' },
      ];
    case 'onelogin':
      return [
        {
          title:
            'In OneLogin, open Applications → your SCIM app (a "SCIM Provisioner with SAML (SCIM v2 Core)" app, or your OIDC app’s SCIM settings) → Configuration.',
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
          detail: `${mapStep.detail} In OneLogin the SCIM JSON Template decides it: set "${mapping.scimAttribute}" to ${mapping.idpAttribute}.`,
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
        {
          ...mapStep,
          detail: `${mapStep.detail} JumpCloud sends username as userName and email as emails; ${strategy === 'OidcEmailToScimUsername' || strategy === 'OidcEmailUsernameToScimUsername' ? 'make sure usernames are the people’s email addresses (or their part before "@").' : strategy === 'OidcPreferredUsernameToScimUsername' ? 'keep the username claim in the SSO app’s attributes.' : 'JumpCloud does not let you choose externalId: ask the app to switch this customer to an email strategy.'}`,
        },
        { title: 'User Groups: bind the groups whose members use the app.' },
      ];
  }
}
