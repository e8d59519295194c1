/**
 * The Customers page: every customer with its SCIM connection and OIDC client (linked to each other when
 * paired), SCIM user and group counts (one `listPage(…, 0, 0)` round trip each), IdP type and strategy.
 */
import type { ScimConnection } from '../connections.js';
import type { OidcClient } from '../oidc-clients.js';
import type { SamlConnection } from '../saml-connections.js';
import type { DashboardApi } from './api.js';
import { enc, html } from './html.js';
import { layout, type PageContext } from './layout.js';

export interface CustomerRow {
  customerId: string;
  connection: ScimConnection | null;
  client: OidcClient | null;
  saml: SamlConnection | null;
  users: number | null;
  groups: number | null;
}

/** Loads one customer's row: its connection, client and counts. */
export async function loadCustomerRow(api: DashboardApi, customerId: string): Promise<CustomerRow> {
  const [connection, client, saml] = await Promise.all([
    api.fetchScimConnection(customerId),
    api.fetchOidcClient(customerId),
    api.fetchSamlConnection(customerId),
  ]);
  if (!connection) return { customerId, connection, client, saml, users: null, groups: null };
  const [users, groups] = await Promise.all([
    api.store.listPage(connection.connectionId, 'User', 0, 0),
    api.store.listPage(connection.connectionId, 'Group', 0, 0),
  ]);
  return { customerId, connection, client, saml, users: users.total, groups: groups.total };
}

export async function loadCustomerRows(api: DashboardApi): Promise<CustomerRow[]> {
  const ids = [...(await api.store.listCustomers())].sort();
  return Promise.all(ids.map((id) => loadCustomerRow(api, id)));
}

export function customersPage(ctx: PageContext, rows: CustomerRow[]): string {
  const href = (row: CustomerRow, fragment = '') => `${ctx.base}/customers/${enc(row.customerId)}${fragment}`;
  const body = rows.length
    ? html`<table>
<caption>${rows.length} customer${rows.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Customer</th><th scope="col">SCIM connection</th><th scope="col">OIDC client</th>
<th scope="col">SCIM users</th><th scope="col">SCIM groups</th><th scope="col">IdP type</th><th scope="col">Matching strategy</th><th scope="col">Tools</th></tr></thead>
<tbody>${rows.map((row) => {
        const paired = row.connection !== null && row.client !== null;
        const connection = row.connection
          ? html`<a href="${href(row, '#scim-connection')}">${row.connection.displayName ?? row.connection.connectionId}</a>
${paired ? html`<br><span class="muted">paired with</span> <a href="${href(row, '#oidc-client')}" aria-label="OIDC client paired with the SCIM connection of ${row.customerId}">OIDC client</a>` : ''}`
          : html`<span class="muted">none</span>`;
        const client = row.saml
          ? html`<a href="${href(row, '#saml-connection')}">SAML: ${row.saml.idpEntityId}</a>`
          : row.client
            ? html`<a href="${href(row, '#oidc-client')}">${row.client.clientId}</a>
${paired ? html`<br><span class="muted">paired with</span> <a href="${href(row, '#scim-connection')}" aria-label="SCIM connection paired with the OIDC client of ${row.customerId}">SCIM connection</a>` : ''}`
            : html`<span class="muted">none</span>`;
        return html`<tr>
<th scope="row"><a href="${href(row)}">${row.customerId}</a></th>
<td>${connection}</td><td>${client}</td>
<td>${row.users ?? '—'}</td><td>${row.groups ?? '—'}</td>
<td>${(row.client ?? row.saml)?.idpType ?? '—'}</td><td>${row.client || row.saml ? html`<code>${(row.client ?? row.saml)!.matchingStrategy}</code>` : '—'}</td>
<td>${row.client || row.saml ? html`<a href="${href(row, '/matching')}">SCIM Matching</a>` : ''}</td>
</tr>`;
      })}</tbody></table>`
    : html`<p>No customer has a SCIM connection or an OIDC client yet.</p>`;
  return layout(ctx, {
    title: 'Customers',
    crumbs: [{ label: 'Customers' }],
    body: html`<h1>Customers</h1><section aria-labelledby="customers-heading"><h2 id="customers-heading" class="visually-hidden">All customers</h2>${body}</section>`,
  });
}
