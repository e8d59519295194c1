/**
 * The demo customer: "acme", whose Okta-style IdP (the embedded demo IdP) has one account for each guard
 * outcome. Alice is provisioned and active, Bob is provisioned then deactivated, Carol was never provisioned.
 */
import type { DemoAccount } from './demo-idp.js';

export const DEMO_CUSTOMER = 'acme';
export const DEMO_CLIENT = { client_id: 'acme-app', client_secret: 'acme-demo-secret-not-for-production' };

export interface DemoPerson {
  account: DemoAccount;
  /** What SCIM says about the person: provisioned active, provisioned then deactivated, or nothing. */
  scim: 'active' | 'deactivated' | 'none';
}

export const DEMO_PEOPLE: DemoPerson[] = [
  {
    account: {
      sub: '00u-alice',
      email: 'alice@acme.test',
      email_verified: true,
      preferred_username: 'alice@acme.test',
      name: 'Alice Active',
      label: 'Alice (provisioned, active)',
    },
    scim: 'active',
  },
  {
    account: {
      sub: '00u-bob',
      email: 'bob@acme.test',
      email_verified: true,
      preferred_username: 'bob@acme.test',
      name: 'Bob Deactivated',
      label: 'Bob (provisioned, then deactivated)',
    },
    scim: 'deactivated',
  },
  {
    account: {
      sub: '00u-carol',
      email: 'carol@acme.test',
      email_verified: true,
      preferred_username: 'carol@acme.test',
      name: 'Carol Unprovisioned',
      label: 'Carol (never provisioned)',
    },
    scim: 'none',
  },
];

/**
 * People the default strategy (OidcEmailToScimUsername) locks out: their IdP email differs from the
 * userName their SCIM app sent (an old domain; a UPN-style short name), but their `sub` is the SCIM
 * `externalId`, so OidcSubToScimExternalId admits them. Both "logged in" once before the demo starts
 * (setup.ts records those attempts), so the dashboard's SCIM Matching page lists them as affected.
 */
export interface MismatchedPerson {
  account: DemoAccount;
  /** The SCIM userName their IdP provisioned (not their email). */
  scimUserName: string;
}

export const MISMATCHED_PEOPLE: MismatchedPerson[] = [
  {
    account: {
      sub: '00u-dave',
      email: 'dave@acme.test',
      email_verified: true,
      preferred_username: 'dave@acme.test',
      name: 'Dave Okafor',
      label: 'Dave (SCIM userName from the old domain)',
    },
    scimUserName: 'dave.okafor@acme-legacy.test',
  },
  {
    account: {
      sub: '00u-erin',
      email: 'erin.lee@acme.test',
      email_verified: true,
      preferred_username: 'erin.lee@acme.test',
      name: 'Erin Lee',
      label: 'Erin (SCIM userName is a short name)',
    },
    scimUserName: 'elee@acme.test',
  },
];

/** Demo groups provisioned with their members (by userName). */
export const DEMO_GROUPS = [
  { displayName: 'Engineering', members: ['alice@acme.test', 'dave.okafor@acme-legacy.test'] },
  { displayName: 'Sales', members: ['bob@acme.test', 'elee@acme.test'] },
];

/** The demo customer's role mapping: Engineering members are admins, everyone admitted is a member. */
export const DEMO_ROLE_MAPPING = {
  rules: [
    { groupDisplayName: 'Engineering', roles: ['admin', 'editor'] },
    { groupDisplayName: 'Sales', roles: ['viewer'] },
  ],
  defaultRoles: ['member'],
};

/** Subjects recorded as SSO users at startup, as if they had logged in once under the default strategy. */
export const EARLIER_LOGINS = ['00u-alice', '00u-bob', '00u-dave', '00u-erin'];

/** An Okta-shaped SCIM create body for a demo person (docs/idp-behaviour.md §Okta). */
export function oktaUserBody(account: DemoAccount, active = true) {
  const [givenName = '', familyName = ''] = String(account.name ?? '').split(' ');
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: account.email,
    name: { givenName, familyName },
    emails: [{ primary: true, value: account.email, type: 'work' }],
    displayName: account.name,
    externalId: account.sub,
    active,
  };
}

/**
 * A fresh customer for the self-serve setup portal (docs/setup-portal.md): "globex", whose Entra-style IdP
 * tenant (the demo IdP) knows its people and the app's client, but nothing is set up in the app. Its IT admin
 * gets a setup link at startup and does the rest: SSO, SCIM token, provisioning, Test SSO. `oid` is the
 * directory object id Entra sends; map externalId ← objectId (that `oid`) when provisioning.
 */
export const SETUP_CUSTOMER = 'globex';
export const SETUP_CLIENT = { client_id: 'globex-app', client_secret: 'globex-demo-secret-not-for-production' };
export const SETUP_PEOPLE: DemoAccount[] = [
  { sub: 'pairwise-gina', oid: '6f1c2a4e-0000-4000-8000-00000000a001', email: 'gina@globex.test', name: 'Gina Globex', label: 'Gina' },
  { sub: 'pairwise-hal', oid: '6f1c2a4e-0000-4000-8000-00000000a002', email: 'hal@globex.test', name: 'Hal Globex', label: 'Hal' },
];

/** The SAML demo customer: "initech", whose Entra-style SAML IdP (the embedded demo SAML IdP) has one account per outcome. */
export const SAML_DEMO_CUSTOMER = 'initech';

export interface SamlDemoPerson {
  account: { email: string; objectId: string; name: string; label: string };
  scim: DemoPerson['scim'];
}

/** Matched by Entra's object identifier attribute ↔ SCIM externalId (the default for MicrosoftEntra). */
export const SAML_DEMO_PEOPLE: SamlDemoPerson[] = [
  {
    account: { email: 'grace@initech.test', objectId: '0b6d7a8e-0000-4000-8000-00000000a11e', name: 'Grace Active', label: 'Grace (provisioned, active)' },
    scim: 'active',
  },
  {
    account: {
      email: 'heidi@initech.test',
      objectId: '0b6d7a8e-0000-4000-8000-0000000000b0',
      name: 'Heidi Deactivated',
      label: 'Heidi (provisioned, then deactivated)',
    },
    scim: 'deactivated',
  },
  {
    account: { email: 'ivan@initech.test', objectId: '0b6d7a8e-0000-4000-8000-0000000000c0', name: 'Ivan Unprovisioned', label: 'Ivan (never provisioned)' },
    scim: 'none',
  },
];
