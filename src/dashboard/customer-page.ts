/**
 * One customer: its SCIM connection and OIDC client (each linking to its pair), SCIM users (active or
 * inactive), groups with their first members, SSO users with their last outcome (never provisioned →
 * "Inactive", PropelAuth's wording), and SCIM token rotation (a POST whose answer shows the new token once).
 * Each list is one page read from the store (users, groups and SSO users by offset, each group's first
 * MEMBERS_SHOWN members): a render costs the same for 100 users as for 100,000. A user's groups, a group's
 * members and an SSO user's roles show as far as LIST_CHARS goes, then how many more (name-list.ts): a
 * customer's SCIM client can put each user in 1,000 groups of 1,024-character names.
 */
import { shownCandidateOf } from '../guard/guard.js';
import type { ScimConnection } from '../connections.js';
import type { OidcClient } from '../oidc-clients.js';
import type { SamlConnection } from '../saml-connections.js';
import type { SsoUserPage, StoredMember, StoredResource } from '../store/store.js';
import { ssoStatus, type DashboardApi } from './api.js';
import { checkSession } from '../guard/session-check.js';
import { roleMappingOf, rolesFor } from '../roles/role-mapping.js';
import { mapInChunks, yieldForResource } from '../event-loop.js';
import { enc, html, type SafeHtml } from './html.js';
import { firstNames, inlineNames, moreNote } from './name-list.js';
import { csrfField, layout, time, type PageContext } from './layout.js';
import { activitySection } from './activity-section.js';
import type { CustomerActivity } from '../activity/activity-api.js';

export const USERS_PAGE = 100;
export const GROUPS_PAGE = 50;
export const SSO_PAGE = 100;
/** Members read per group (the count shows them all); those shown are cut at LIST_CHARS too. */
export const MEMBERS_SHOWN = 20;
/** Entries shown of each activity list. */
export const ACTIVITY_SHOWN = 20;

export interface CustomerOffsets {
  users: number;
  groups: number;
  sso: number;
}

/** A listed group: its size and its first MEMBERS_SHOWN members. */
export interface GroupRow {
  group: StoredResource;
  size: number;
  members: StoredMember[];
}

export interface CustomerData {
  customerId: string;
  connection: ScimConnection | null;
  client: OidcClient | null;
  /** The customer's SAML connection (a customer has an OIDC client or a SAML connection, not both). */
  saml: SamlConnection | null;
  users: { total: number; resources: StoredResource[] };
  groups: { total: number; rows: GroupRow[] };
  ssoUsers: SsoUserPage;
  offsets: CustomerOffsets;
  /** userName of the listed group members that came without a `display` (Entra sends none). */
  memberNames: Map<string, string>;
  /** The roles of the listed SSO users whose last login was admitted, by subject (src/roles/role-mapping.ts). */
  ssoRoles: Map<string, string[]>;
  /** The customer's recent SCIM requests and refused logins (docs/activity.md). */
  activity: CustomerActivity;
}

/** Null when the customer has neither a SCIM connection nor an SSO connection. */
export async function loadCustomer(api: DashboardApi, customerId: string, offsets: CustomerOffsets): Promise<CustomerData | null> {
  const [connection, client, saml] = await Promise.all([
    api.fetchScimConnection(customerId),
    api.fetchOidcClient(customerId),
    api.fetchSamlConnection(customerId),
  ]);
  if (!connection && !client && !saml) return null;
  const [users, groups, ssoUsers, activity] = await Promise.all([
    connection ? api.store.listPage(connection.connectionId, 'User', offsets.users, USERS_PAGE) : { total: 0, resources: [] },
    connection ? groupRows(api, connection.connectionId, offsets.groups) : { total: 0, rows: [] },
    client || saml ? api.store.listSsoUserPage(customerId, offsets.sso, SSO_PAGE) : { total: 0, users: [] },
    api.activity(customerId, { limit: ACTIVITY_SHOWN }),
  ]);
  return {
    customerId,
    connection,
    client,
    saml,
    users,
    groups,
    ssoUsers,
    offsets,
    memberNames: await memberNames(api, connection, users.resources, groups.rows),
    ssoRoles: await ssoRoles(api, customerId, connection, ssoUsers),
    activity,
  };
}

/** Store reads the customer page makes at once (each user read derives its groups: up to 1,000 each). */
const READS_AT_ONCE = 10;

/**
 * The roles each admitted SSO user of the page has now: its SCIM user's groups under the customer's role
 * mapping, as requireActiveUser would give them (one read per listed admitted user, READS_AT_ONCE at a time).
 */
async function ssoRoles(api: DashboardApi, customerId: string, connection: ScimConnection | null, page: SsoUserPage): Promise<Map<string, string[]>> {
  const roles = new Map<string, string[]>();
  const mapping = roleMappingOf(await api.store.getRoleMapping(customerId));
  const admitted = page.users.filter((u) => u.lastOutcome === 'admitted');
  // The session check's own read (bounded whatever the person's groups weigh: Store.readSessionUser).
  await mapInChunks(admitted, READS_AT_ONCE, async (u) => {
    const ref = connection && u.lastScimUserId ? { customerId, connectionId: connection.connectionId, scimUserId: u.lastScimUserId } : null;
    const status = ref ? await checkSession(api.store, ref) : null;
    roles.set(u.subject, status?.active ? status.roles : rolesFor(mapping, []));
  });
  return roles;
}

/** A page of groups without their member lists, then each one's first members (one read each, in parallel). */
async function groupRows(api: DashboardApi, connectionId: string, offset: number): Promise<CustomerData['groups']> {
  const page = await api.store.listPage(connectionId, 'Group', offset, GROUPS_PAGE, { members: false });
  const rows = await Promise.all(
    page.resources.map(async (group) => {
      const first = await api.store.listGroupMembers(connectionId, group.id, 0, MEMBERS_SHOWN);
      return { group, size: first?.total ?? group.memberCount ?? 0, members: first?.members ?? [] };
    }),
  );
  return { total: page.total, rows };
}

/**
 * Most characters of user JSON the page reads to name the shown members without a `display`. Each was read and
 * parsed whole: 100 members of 0.8 MB held the event loop 0.8-1.3 s (an audit, 2026-12-07). Past it, the
 * others are shown by their value (their id).
 */
export const MEMBER_NAME_CHARS = 2 * 1024 * 1024;

/**
 * Names of the shown members without a `display`: from the listed users, else one read each (READS_AT_ONCE at
 * a time) while MEMBER_NAME_CHARS last, a large user parsed in a turn of its own.
 */
async function memberNames(api: DashboardApi, connection: ScimConnection | null, users: StoredResource[], groups: GroupRow[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (!connection) return names;
  for (const user of users) names.set(user.id, shownCandidateOf(user).userName);
  const missing = new Set<string>();
  for (const { members } of groups) {
    for (const m of members) if (m.display === undefined && !names.has(m.value)) missing.add(m.value);
  }
  const ids = [...missing];
  let read = 0;
  for (let i = 0; i < ids.length && read <= MEMBER_NAME_CHARS; i += READS_AT_ONCE) {
    const found = await Promise.all(ids.slice(i, i + READS_AT_ONCE).map((id) => api.store.getResource(connection.connectionId, 'User', id)));
    for (const user of found) {
      if (!user || read > MEMBER_NAME_CHARS) continue;
      read += user.json.length;
      names.set(user.id, shownCandidateOf(user).userName);
      await yieldForResource(user);
    }
  }
  return names;
}

/** `shown`: how many rows this page holds, when the store may end a page early (GROUP_IDS_PER_PAGE). */
function pager(ctx: PageContext, data: CustomerData, name: keyof CustomerOffsets, size: number, total: number, what: string, shown?: number): SafeHtml {
  const offset = data.offsets[name];
  shown ??= Math.max(0, Math.min(size, total - offset));
  if (total <= size && offset === 0) return html``;
  const link = (to: number) => {
    const q = new URLSearchParams(
      Object.entries({ ...data.offsets, [name]: to })
        .filter(([, v]) => v > 0)
        .map(([k, v]) => [k, String(v)]),
    );
    return `${ctx.base}/customers/${enc(data.customerId)}${q.size ? `?${q}` : ''}#${name}`;
  };
  return html`<nav class="pager" aria-label="${what} pages"><span>${what} ${offset + 1}–${offset + shown} of ${total}</span>
${offset > 0 ? html`<a href="${link(Math.max(0, offset - size))}">Previous</a>` : ''}
${offset + shown < total && shown > 0 ? html`<a href="${link(offset + shown)}">Next</a>` : ''}</nav>`;
}

const status = (ok: boolean, label: string) => html`<span class="badge ${ok ? 'ok' : 'bad'}">${label}</span>`;

function connectionSection(ctx: PageContext, data: CustomerData, newToken: string | null): SafeHtml {
  const c = data.connection;
  if (!c) return html`<section id="scim-connection" aria-labelledby="scim-heading"><h2 id="scim-heading">SCIM connection</h2><p>None.</p></section>`;
  return html`<section id="scim-connection" aria-labelledby="scim-heading"><h2 id="scim-heading">SCIM connection</h2>
${
  newToken
    ? html`<div class="notice" role="alert"><p><strong>New SCIM token.</strong> Copy it into the IdP now: it is shown only once.</p>
<p>New token: <code id="new-token" class="secret">${newToken}</code></p></div>`
    : ''
}
<table><tbody>
<tr><th scope="row">Connection id</th><td><code>${c.connectionId}</code></td></tr>
<tr><th scope="row">Name</th><td>${c.displayName ?? '—'}</td></tr>
<tr><th scope="row">Created</th><td>${time(c.createdAt)}</td></tr>
<tr><th scope="row">Previous token</th><td>${c.previousTokenExpiresAt ? html`still accepted until ${time(c.previousTokenExpiresAt)}` : 'not accepted'}</td></tr>
<tr><th scope="row">Paired OIDC client</th><td>${data.client ? html`<a href="#oidc-client">${data.client.clientId}</a>` : 'none'}</td></tr>
${data.saml ? html`<tr><th scope="row">Paired SAML connection</th><td><a href="#saml-connection">${data.saml.idpEntityId}</a></td></tr>` : ''}
</tbody></table>
<form method="post" action="${ctx.base}/customers/${enc(data.customerId)}/scim-token">${csrfField(ctx)}
<label for="grace">Keep the old token working for</label>
<select id="grace" name="graceSeconds"><option value="0">no time (stop at once)</option><option value="3600" selected>1 hour</option><option value="86400">1 day</option></select>
<button type="submit">Rotate SCIM token</button></form></section>`;
}

/** The SAML connection: what the IdP admin needs (SP metadata, ACS, entity ID) and what the guard checks. */
function samlSection(ctx: PageContext, data: CustomerData): SafeHtml {
  const c = data.saml!;
  return html`<section id="saml-connection" aria-labelledby="saml-heading"><h2 id="saml-heading">SAML connection</h2>
<table><tbody>
<tr><th scope="row">IdP type</th><td>${c.idpType}</td></tr>
<tr><th scope="row">IdP entity ID</th><td><code>${c.idpEntityId}</code></td></tr>
<tr><th scope="row">IdP SSO URL</th><td><code>${c.entryPoint}</code></td></tr>
<tr><th scope="row">IdP certificates</th><td>${c.idpCerts.length}</td></tr>
<tr><th scope="row">SP entity ID</th><td><code>${c.spEntityId}</code></td></tr>
<tr><th scope="row">ACS URL</th><td><code>${c.acsUrl}</code></td></tr>
<tr><th scope="row">Signed</th><td>${c.signed}</td></tr>
<tr><th scope="row">Matching strategy</th><td><code>${c.matchingStrategy}</code> — <a href="${ctx.base}/customers/${enc(data.customerId)}/matching">SCIM Matching</a></td></tr>
<tr><th scope="row">Match attribute</th><td><code>${c.matchAttribute}</code></td></tr>
<tr><th scope="row">Email attribute</th><td><code>${c.emailAttribute}</code></td></tr>
<tr><th scope="row">Paired SCIM connection</th><td>${data.connection ? html`<a href="#scim-connection">${data.connection.displayName ?? data.connection.connectionId}</a>` : 'none'}</td></tr>
</tbody></table></section>`;
}

function clientSection(ctx: PageContext, data: CustomerData): SafeHtml {
  if (data.saml) return samlSection(ctx, data);
  const c = data.client;
  if (!c) return html`<section id="oidc-client" aria-labelledby="oidc-heading"><h2 id="oidc-heading">OIDC client</h2><p>None.</p></section>`;
  return html`<section id="oidc-client" aria-labelledby="oidc-heading"><h2 id="oidc-heading">OIDC client</h2>
<table><tbody>
<tr><th scope="row">Client id</th><td><code>${c.clientId}</code></td></tr>
<tr><th scope="row">IdP type</th><td>${c.idpType}</td></tr>
<tr><th scope="row">Issuer</th><td><code>${c.issuer}</code></td></tr>
<tr><th scope="row">Matching strategy</th><td><code>${c.matchingStrategy}</code> — <a href="${ctx.base}/customers/${enc(data.customerId)}/matching">SCIM Matching</a></td></tr>
<tr><th scope="row">Subject claim</th><td><code>${c.subjectClaim}</code></td></tr>
<tr><th scope="row">Scopes</th><td>${c.scopes.join(' ')}</td></tr>
<tr><th scope="row">Paired SCIM connection</th><td>${data.connection ? html`<a href="#scim-connection">${data.connection.displayName ?? data.connection.connectionId}</a>` : 'none'}</td></tr>
</tbody></table></section>`;
}

function usersSection(ctx: PageContext, data: CustomerData): SafeHtml {
  const rows = data.users.resources.map((stored) => {
    const user = shownCandidateOf(stored);
    const display = typeof user.resource.displayName === 'string' ? user.resource.displayName : '';
    const groups = inlineNames(
      firstNames(stored.groups ?? [], (g) => g.display),
      'group',
      '',
    );
    return html`<tr><th scope="row">${user.userName}</th><td>${user.externalId ?? '—'}</td><td>${display}</td>
<td>${status(user.active, user.active ? 'Active' : 'Inactive')}</td><td>${groups}</td></tr>`;
  });
  return html`<section id="users" aria-labelledby="users-heading"><h2 id="users-heading">SCIM users (${data.users.total})</h2>
${rows.length ? html`<table><thead><tr><th scope="col">userName</th><th scope="col">externalId</th><th scope="col">Display name</th><th scope="col">Status</th><th scope="col">Groups</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No SCIM users.</p>`}
${pager(ctx, data, 'users', USERS_PAGE, data.users.total, 'Users', data.users.resources.length)}</section>`;
}

function groupsSection(ctx: PageContext, data: CustomerData): SafeHtml {
  const rows = data.groups.rows.map(({ group: stored, size, members }) => {
    const group = JSON.parse(stored.json) as { displayName?: unknown };
    const shown = firstNames(members, (m) => m.display ?? data.memberNames.get(m.value) ?? m.value, { total: size });
    return html`<tr><th scope="row">${typeof group.displayName === 'string' ? group.displayName : stored.id}</th><td>${size}</td>
<td>${shown.names.length ? html`<ul class="plain">${shown.names.map((name) => html`<li>${name}</li>`)}</ul>` : html`<span class="muted">no members</span>`}
${shown.more > 0 ? html`<p>${moreNote(shown.more, 'member')}</p>` : ''}</td></tr>`;
  });
  return html`<section id="groups" aria-labelledby="groups-heading"><h2 id="groups-heading">SCIM groups (${data.groups.total})</h2>
${rows.length ? html`<table><thead><tr><th scope="col">Group</th><th scope="col">Size</th><th scope="col">Members</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No SCIM groups.</p>`}
${pager(ctx, data, 'groups', GROUPS_PAGE, data.groups.total, 'Groups', data.groups.rows.length)}</section>`;
}

function ssoSection(ctx: PageContext, data: CustomerData): SafeHtml {
  const rows = data.ssoUsers.users.map((u) => {
    const s = ssoStatus(u);
    const roles = inlineNames(
      firstNames(data.ssoRoles.get(u.subject) ?? [], (role) => role),
      'role',
      '',
    );
    return html`<tr><th scope="row">${u.email ?? u.preferredUsername ?? u.subject}</th><td><code>${u.subject}</code></td><td>${u.name ?? ''}</td>
<td>${time(u.lastSeenAt)}</td><td>${status(s.ok, s.label)}</td><td>${roles}</td>
<td><a href="${ctx.base}/customers/${enc(data.customerId)}/compare?subject=${enc(u.subject)}">Compare</a></td></tr>`;
  });
  return html`<section id="sso" aria-labelledby="sso-heading"><h2 id="sso-heading">SSO users (${data.ssoUsers.total})</h2>
<p class="muted">Everyone who tried to log in through the ${data.saml ? 'SAML connection' : 'OIDC client'}, with the outcome of their last attempt. "Inactive": no SCIM user matched (never provisioned, or the strategy does not fit).</p>
${rows.length ? html`<table><thead><tr><th scope="col">User</th><th scope="col">Subject</th><th scope="col">Name</th><th scope="col">Last login</th><th scope="col">Last outcome</th><th scope="col">Roles now</th><th scope="col">Details</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No one has logged in yet.</p>`}
${pager(ctx, data, 'sso', SSO_PAGE, data.ssoUsers.total, 'SSO users')}</section>`;
}

export function customerPage(ctx: PageContext, data: CustomerData, newToken: string | null = null): string {
  return layout(ctx, {
    title: data.customerId,
    crumbs: [{ label: 'Customers', href: `${ctx.base}/` }, { label: data.customerId }],
    body: html`<h1>Customer <code>${data.customerId}</code></h1>
${data.client || data.saml ? html`<p><a href="${ctx.base}/customers/${enc(data.customerId)}/matching">SCIM Matching</a>: find the strategy that matches SSO users to SCIM users.</p>` : ''}
<p><a href="${ctx.base}/customers/${enc(data.customerId)}/roles">Roles</a>: which app roles the customer's IdP groups give.</p>
${connectionSection(ctx, data, newToken)}${clientSection(ctx, data)}${usersSection(ctx, data)}${groupsSection(ctx, data)}${data.client || data.saml ? ssoSection(ctx, data) : ''}
${activitySection(data.activity, Date.now())}`,
  });
}
