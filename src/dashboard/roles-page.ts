/**
 * The Roles page of a customer: its role mapping as an ordered table of rules (a group, by name or id, and
 * the app roles its members get; earlier rows take precedence), the default roles, and a form that saves it
 * with `setRoleMapping`. Works without JavaScript: the form always offers a few empty rows to add rules.
 */
import { MAX_ROLE_RULES, type RoleMappingInput } from '../roles/role-mapping.js';
import type { RoleMappingView } from '../roles/roles-api.js';
import { enc, html, type SafeHtml } from './html.js';
import { csrfField, layout, time, type PageContext } from './layout.js';

/** Empty rows the form offers for new rules. */
const BLANK_ROWS = 3;

interface RuleRow {
  by: 'name' | 'id';
  group: string;
  roles: string;
}

const splitRoles = (text: string): string[] =>
  text
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');

function rowsOf(mapping: RoleMappingView | null): RuleRow[] {
  const rules = (mapping?.rules ?? []).map((rule): RuleRow =>
    'groupId' in rule
      ? { by: 'id', group: rule.groupId, roles: rule.roles.join(', ') }
      : { by: 'name', group: rule.groupDisplayName, roles: rule.roles.join(', ') },
  );
  return [...rules, ...Array.from({ length: BLANK_ROWS }, (): RuleRow => ({ by: 'name', group: '', roles: '' }))];
}

function ruleRow(row: RuleRow, i: number): SafeHtml {
  return html`<tr><th scope="row">${i + 1}</th>
<td><label class="visually-hidden" for="by_${i}">Rule ${i + 1}: match the group by</label><select id="by_${i}" name="by_${i}">
<option value="name"${row.by === 'name' ? html` selected` : ''}>displayName</option><option value="id"${row.by === 'id' ? html` selected` : ''}>SCIM id</option></select></td>
<td><label class="visually-hidden" for="group_${i}">Rule ${i + 1}: group</label><input id="group_${i}" name="group_${i}" value="${row.group}" maxlength="256"></td>
<td><label class="visually-hidden" for="roles_${i}">Rule ${i + 1}: roles, comma-separated</label><input id="roles_${i}" name="roles_${i}" value="${row.roles}"></td></tr>`;
}

export function rolesPage(ctx: PageContext, customerId: string, mapping: RoleMappingView | null, notice: { saved: boolean; error?: string }): string {
  const customerHref = `${ctx.base}/customers/${enc(customerId)}`;
  const body = html`<h1>Roles — <code>${customerId}</code></h1>
<p>Members of the customer's IdP groups (pushed over SCIM) get these app roles. Rules apply top to bottom; a person's roles are listed in that order, so the first is their highest. Changes apply to every live session at its next request.</p>
${notice.saved ? html`<p class="status" role="status" id="saved">Saved.</p>` : ''}
${notice.error ? html`<p class="status bad" role="alert" id="error">Not saved: ${notice.error}</p>` : ''}
${mapping ? html`<p class="muted">Last changed ${time(mapping.updatedAt)}.</p>` : html`<p id="no-mapping">No role mapping yet: nobody gets roles from groups.</p>`}
<form method="post" action="${customerHref}/roles">${csrfField(ctx)}
<table><caption>Rules (leave a row's group empty to remove it)</caption>
<thead><tr><th scope="col">#</th><th scope="col">Match by</th><th scope="col">Group</th><th scope="col">Roles</th></tr></thead>
<tbody>${rowsOf(mapping).map(ruleRow)}</tbody></table>
<p><label for="defaultRoles">Default roles (every admitted person, after the rules)</label>
<input id="defaultRoles" name="defaultRoles" value="${(mapping?.defaultRoles ?? []).join(', ')}"></p>
<button type="submit" id="save">Save</button></form>`;
  return layout(ctx, {
    title: `Roles — ${customerId}`,
    crumbs: [{ label: 'Customers', href: `${ctx.base}/` }, { label: customerId, href: customerHref }, { label: 'Roles' }],
    body,
  });
}

/**
 * The mapping a submitted form describes (rows in order; a row without a group is skipped). Validation is
 * setRoleMapping's: this only reshapes, reading own fields of the prototype-free form.
 */
export function mappingFromForm(form: Record<string, unknown>): RoleMappingInput {
  const text = (name: string): string => {
    const value = Object.hasOwn(form, name) ? form[name] : undefined;
    return typeof value === 'string' ? value.trim() : '';
  };
  const rules: RoleMappingInput['rules'] = [];
  for (let i = 0; i < MAX_ROLE_RULES + BLANK_ROWS; i++) {
    const group = text(`group_${i}`);
    if (group === '') continue;
    const roles = splitRoles(text(`roles_${i}`));
    rules.push(text(`by_${i}`) === 'id' ? { groupId: group, roles } : { groupDisplayName: group, roles });
  }
  return { rules, defaultRoles: splitRoles(text('defaultRoles')) };
}
