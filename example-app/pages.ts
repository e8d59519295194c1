/** The example app's few pages: plain HTML, no build step. */
import type { DefaultSessionUser, ProvisioningEvent, ScimSsoCore } from '../src/index.js';
import type { DemoPerson, SamlDemoPerson } from './demo-data.js';

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · scim-sso example</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
a.button,button{display:inline-block;padding:.4rem .9rem;border:1px solid #345;border-radius:.3rem;background:#f4f7fb;color:#123;text-decoration:none;cursor:pointer;font:inherit}
code,pre{background:#f1f3f6;padding:.1rem .3rem;border-radius:.2rem}pre{padding:.8rem;overflow:auto}li{margin:.4rem 0}</style>
</head><body><main>${body}</main></body></html>`;

const EXPECTED: Record<DemoPerson['scim'], string> = {
  active: 'admitted',
  deactivated: 'refused: deactivated',
  none: 'refused: not_provisioned',
};

export function homePage(customerId: string, people: DemoPerson[], user: DefaultSessionUser | undefined): string {
  const items = people
    .map(
      (p) =>
        `<li><a class="button" href="/sso/${encodeURIComponent(customerId)}/login?login_hint=${encodeURIComponent(p.account.sub)}">Log in as ${escape(p.account.label ?? p.account.sub)}</a> — expected: ${EXPECTED[p.scim]}</li>`,
    )
    .join('\n');
  const session = user
    ? `<p>Logged in as <strong>${escape(user.userName ?? user.subject)}</strong>. <a href="/me">Your session</a>.</p><form method="post" action="/logout"><button>Log out</button></form>`
    : '<p>Not logged in.</p>';
  return layout(
    'Home',
    `<h1>scim-sso example</h1>
<p>Customer <code>${escape(customerId)}</code> logs in through its own OpenID Connect IdP (an embedded demo IdP). scim-sso admits only people whose SCIM user is active.</p>
${session}
<h2>Log in</h2><ul>${items}</ul>
<p>Or <a href="/sso/${encodeURIComponent(customerId)}/login">log in and choose an account on the IdP's page</a>.</p>`,
  );
}

/**
 * The SAML demo customer's part of the home page: one login link (the demo SAML IdP shows the accounts), and
 * the demo IdP's app dashboard (`idpEntityId`/apps), whose tiles start IdP-initiated logins.
 */
export function samlLoginSection(customerId: string, people: SamlDemoPerson[], idpEntityId: string): string {
  const expected = people.map((p) => `<li>${escape(p.account.label)} — expected: ${EXPECTED[p.scim]}</li>`).join('\n');
  return `<h2>Log in by SAML</h2>
<p>Customer <code>${escape(customerId)}</code> logs in through a SAML 2.0 IdP (an embedded Entra-style demo IdP); the same guard applies.</p>
<p><a class="button" href="/sso/${encodeURIComponent(customerId)}/login">Log in to ${escape(customerId)} by SAML</a></p>
<p>Or start from <a href="${escape(idpEntityId)}/apps">the IdP's app dashboard</a>, as a person clicking the app's tile in Okta or Entra does.</p>
<ul>${expected}</ul>`;
}

export function mePage(user: DefaultSessionUser): string {
  return layout(
    'Your session',
    `<h1>Admitted</h1><p>The guard found your active SCIM user.</p>
<p>Your roles: <strong id="roles">${user.roles.length ? escape(user.roles.join(', ')) : 'none'}</strong>
(from your groups: ${user.groups.length ? user.groups.map((g) => escape(g.displayName)).join(', ') : 'none'}; the customer's role mapping is on the admin dashboard's Roles page).</p>
<p>This is your session (<code>req.user</code>):</p>
<pre>${escape(JSON.stringify(user, null, 2))}</pre>
<p>Deactivate this user through SCIM and reload: the session ends at the next request. Remove them from a group and reload: its roles go.</p>
<p><a href="/members">Your organisation's members</a> (the directory API) · <a href="/activity">Provisioning activity</a> (an event consumer).</p>
<form method="post" action="/logout"><button>Log out</button></form><p><a href="/">Home</a></p>`,
  );
}

const REASONS: Record<string, string> = {
  deactivated: "Your account was deactivated in your company's identity provider.",
  deleted: "Your account was deleted in your company's identity provider.",
  not_provisioned: "Your company's identity provider has not provisioned your account to this app.",
  ambiguous: 'Several accounts match your login; ask your administrator to fix the matching strategy.',
};

export function refusedPage(error: string, reason: string): string {
  const explanation =
    error === 'ScimUserNotActive' ? (REASONS[reason] ?? 'Your account is not active.') : `The login failed (${escape(error || 'unknown error')}).`;
  return layout(
    'Login refused',
    `<h1>Login refused</h1><p role="alert">${escape(explanation)}</p>
<p>Error <code>${escape(error)}</code>${reason ? `, reason <code>${escape(reason)}</code>` : ''}.</p><p><a href="/">Home</a></p>`,
  );
}

/** Members of the logged-in person's organisation, one directory page at a time (`sso.directory`). */
export async function membersPage(sso: Pick<ScimSsoCore, 'directory'>, customerId: string, cursor: string | null): Promise<string> {
  // A cursor that is not one of ours (edited by hand) starts from the first page.
  const users = await sso.directory.listUsers(customerId, { cursor, limit: 50 }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'invalid_argument') throw error;
    return sso.directory.listUsers(customerId, { limit: 50 });
  });
  const groups = (await sso.directory.listGroups(customerId, { limit: 50 })).items;
  const rows = users.items
    .map(
      (u) =>
        `<tr><td>${escape(u.displayName ?? u.userName)}</td><td>${escape(u.userName)}</td><td>${u.active ? 'active' : 'deactivated'}</td><td>${escape(u.groups.map((g) => g.displayName).join(', '))}</td></tr>`,
    )
    .join('\n');
  const next = users.nextCursor ? `<p><a href="/members?cursor=${encodeURIComponent(users.nextCursor)}">Next page</a></p>` : '';
  return layout(
    'Members',
    `<h1>Members of <code>${escape(customerId)}</code></h1>
<p>What the organisation's IdP provisioned over SCIM, read with <code>sso.directory.listUsers</code>.</p>
<table id="members"><thead><tr><th>Name</th><th>userName</th><th>Status</th><th>Groups</th></tr></thead><tbody>${rows}</tbody></table>${next}
<h2>Groups</h2><ul id="groups">${groups.map((g) => `<li>${escape(g.displayName)} (${g.memberCount} member${g.memberCount === 1 ? '' : 's'})</li>`).join('')}</ul>
<p><a href="/me">Your session</a> · <a href="/">Home</a></p>`,
  );
}

/** The organisation's last provisioning events, as the activity feed's consumer received them. */
export function activityPage(customerId: string, events: ProvisioningEvent[]): string {
  const rows = events
    .map(
      (e) =>
        `<tr><td><time datetime="${e.at}">${escape(e.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time></td><td><code>${escape(e.type)}</code></td><td>${escape(String(e.resource?.userName ?? e.resource?.displayName ?? e.resourceId))}</td><td>${escape(e.member ? `member ${e.member.value}` : e.changed.join(', '))}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Activity',
    `<h1>Provisioning activity of <code>${escape(customerId)}</code></h1>
<p>The last events the app's consumer (<code>sso.events.consume</code>, group <code>example-activity</code>) received, newest first. Provision someone over SCIM and reload.</p>
<table id="activity"><thead><tr><th>When</th><th>Event</th><th>Resource</th><th>Changed</th></tr></thead><tbody>${rows}</tbody></table>
<p><a href="/me">Your session</a> · <a href="/">Home</a></p>`,
  );
}
