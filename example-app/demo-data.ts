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
    account: { sub: '00u-alice', email: 'alice@acme.test', email_verified: true, preferred_username: 'alice@acme.test', name: 'Alice Active', label: 'Alice (provisioned, active)' },
    scim: 'active',
  },
  {
    account: { sub: '00u-bob', email: 'bob@acme.test', email_verified: true, preferred_username: 'bob@acme.test', name: 'Bob Deactivated', label: 'Bob (provisioned, then deactivated)' },
    scim: 'deactivated',
  },
  {
    account: { sub: '00u-carol', email: 'carol@acme.test', email_verified: true, preferred_username: 'carol@acme.test', name: 'Carol Unprovisioned', label: 'Carol (never provisioned)' },
    scim: 'none',
  },
];

/** An Okta-shaped SCIM create body for a demo person (scim-clients.md §1). */
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
