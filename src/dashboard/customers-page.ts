/**
 * The Customers page: customers with their SCIM connection and OIDC client (linked to each other when
 * paired), SCIM user and group counts (one `listPage(…, 0, 0)` round trip each), IdP type and strategy.
 *
 * One page of CUSTOMERS_PAGE customers at a time, in customer id order, optionally those whose id contains a
 * search text: the customer ids are read whole (a few bytes each), but only the page's customers are loaded
 * and rendered. Loading and rendering every customer held the event loop 0.5-0.75 s at 10,000 customers.
 */
import type { ScimConnection } from '../connections.js';
import { mapInChunks } from '../event-loop.js';
import type { OidcClient } from '../oidc-clients.js';
import type { SamlConnection } from '../saml-connections.js';
import type { DashboardApi } from './api.js';
import { enc, html, type SafeHtml } from './html.js';
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

/** Customers listed per page. */
export const CUSTOMERS_PAGE = 50;

/** Customer rows loaded at once (five store reads each). */
const ROWS_AT_ONCE = 10;

/** A search text longer than any customer id finds nothing; it is cut there rather than refused. */
const MAX_FIND_CHARS = 200;

/** What the Customers page shows: where it starts, the search text, and one page of rows. */
export interface CustomerList {
  offset: number;
  /** The search text ('' for every customer): customers whose id contains it, in any case. */
  find: string;
  /** Customers listed in all (those matching `find`). */
  total: number;
  rows: CustomerRow[];
}

/** One page of customers, from `offset` in customer id order, of those whose id contains `find` (any case). */
export async function loadCustomerRows(api: DashboardApi, offset: number, find: string): Promise<CustomerList> {
  const wanted = find.slice(0, MAX_FIND_CHARS);
  const needle = wanted.toLowerCase();
  let ids = await api.store.listCustomers();
  if (needle !== '') ids = ids.filter((id) => id.toLowerCase().includes(needle));
  const rows = await mapInChunks(ids.slice(offset, offset + CUSTOMERS_PAGE), ROWS_AT_ONCE, (id) => loadCustomerRow(api, id));
  return { offset, find: wanted, total: ids.length, rows };
}

/** The search form and the Previous/Next links of the Customers page. */
function customersPager(ctx: PageContext, list: CustomerList): SafeHtml {
  const link = (offset: number, find = list.find) => {
    const q = new URLSearchParams();
    if (find !== '') q.set('find', find);
    if (offset > 0) q.set('customers', String(offset));
    return `${ctx.base}/${q.size ? `?${q}` : ''}`;
  };
  const { offset, total, rows } = list;
  const range = rows.length > 0 ? `Customers ${offset + 1}–${offset + rows.length} of ${total}` : `No customers past ${offset} of ${total}`;
  return html`<form method="get" action="${ctx.base}/" class="pager" role="search">
<label for="find-customer">Customer id contains</label> <input id="find-customer" name="find" value="${list.find}" maxlength="${MAX_FIND_CHARS}"> <button type="submit">Find</button>
${list.find !== '' ? html`<a href="${link(0, '')}">Show every customer</a>` : ''}</form>
${
  total > CUSTOMERS_PAGE || offset > 0
    ? html`<nav class="pager" aria-label="Customer pages"><span>${range}</span>
${offset > 0 ? html`<a href="${link(Math.max(0, Math.min(offset, total) - CUSTOMERS_PAGE))}">Previous</a>` : ''}
${offset + rows.length < total && rows.length > 0 ? html`<a href="${link(offset + rows.length)}">Next</a>` : ''}</nav>`
    : ''
}`;
}

export function customersPage(ctx: PageContext, list: CustomerList): string {
  const { rows } = list;
  const href = (row: CustomerRow, fragment = '') => `${ctx.base}/customers/${enc(row.customerId)}${fragment}`;
  const body = rows.length
    ? html`<table>
<caption>${list.total} customer${list.total === 1 ? '' : 's'}${list.find !== '' ? html` whose id contains “${list.find}”` : ''}${rows.length < list.total ? html`, ${rows.length} shown` : ''}</caption>
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
    : list.find !== ''
      ? html`<p>No customer id contains “${list.find}”.</p>`
      : list.total > 0
        ? html`<p>No customers on this page.</p>`
        : html`<p>No customer has a SCIM connection or an OIDC client yet.</p>`;
  return layout(ctx, {
    title: 'Customers',
    crumbs: [{ label: 'Customers' }],
    body: html`<h1>Customers</h1><section aria-labelledby="customers-heading"><h2 id="customers-heading" class="visually-hidden">All customers</h2>${customersPager(ctx, list)}${body}</section>`,
  });
}
