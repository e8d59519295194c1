/** Okta-shaped SCIM users (docs/idp-behaviour.md §Okta) and the request bodies the phases send. */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** What the load generator knows about a user it created. */
export interface KnownUser {
  id: string;
  userName: string;
  externalId: string;
}

const GIVEN = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'];
const FAMILY = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Berners-Lee'];

export const userNameOf = (tag: string, n: number) => `${tag}.user${n}@example.com`;
export const externalIdOf = (tag: string, n: number) => `00u${tag}${n.toString(36).padStart(8, '0')}`;

/** Okta's create body: schemas, userName, name, emails, displayName, locale, externalId, groups: [], password, active. */
export function oktaUser(tag: string, n: number): Record<string, unknown> {
  const givenName = GIVEN[n % GIVEN.length]!;
  const familyName = FAMILY[Math.floor(n / GIVEN.length) % FAMILY.length]!;
  const userName = userNameOf(tag, n);
  return {
    schemas: [USER_SCHEMA],
    userName,
    name: { givenName, familyName },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: `${givenName} ${familyName}`,
    locale: 'en-US',
    externalId: externalIdOf(tag, n),
    groups: [],
    password: 'tmp-Pa55word!',
    active: true,
  };
}

/** Okta's profile update: the whole user (with id and meta as GET returned them), one attribute changed. */
export function oktaPut(tag: string, n: number, id: string, version: number): Record<string, unknown> {
  const user = oktaUser(tag, n);
  delete user.password;
  return { ...user, id, displayName: `Renamed ${n} v${version}`, meta: { resourceType: 'User' } };
}

/** Entra's deactivation PATCH (capitalised op, string boolean). */
export function entraActivePatch(active: boolean): Record<string, unknown> {
  return { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: active ? 'True' : 'False' }] };
}
