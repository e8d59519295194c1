/**
 * The dashboard's Roles page on both adapters and stores: the mapping shown as ordered rows, saved through a
 * CSRF-protected form (303, then shown), refused with the reason and nothing changed when invalid, and
 * escaped when hostile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES_FORM_LIMIT_BYTES } from '../../src/dashboard/form.js';
import { MAX_ROLE_RULES, MAX_ROLES_PER_RULE } from '../../src/roles/role-mapping.js';
import { ADAPTERS } from '../support/adapters.js';
import { STORE_KINDS } from '../support/app.js';
import { ADMIN, CUSTOMER, HOSTILE_NAME, csrfTokenOf, dashboardFixture, type DashboardFixture } from './fixture.js';

const ROLES = `/admin/customers/${CUSTOMER}/roles`;

describe.each(STORE_KINDS)('dashboard Roles page (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let f: DashboardFixture;
    beforeAll(async () => {
      f = await dashboardFixture(storeKind, undefined, adapter);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('shows that there is no mapping, links from the customer page, and offers empty rows', async () => {
      await f.sso.deleteRoleMapping(CUSTOMER);
      const customer = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
      expect(customer.text).toContain(`href="${ROLES}"`);
      const page = await f.agent().get(ROLES).set(ADMIN);
      expect(page.status).toBe(200);
      expect(page.text).toContain('id="no-mapping"');
      expect(page.text).toContain('name="group_2"');
      expect(page.text).not.toContain('name="group_3"');
    });

    it('saves the rows in order (empty rows skipped) with a valid CSRF token, then shows them', async () => {
      const agent = f.agent();
      const token = csrfTokenOf((await agent.get(ROLES).set(ADMIN)).text);
      const saved = await agent.post(ROLES).set(ADMIN).type('form').send({
        _csrf: token,
        by_0: 'name',
        group_0: 'App-Admins',
        roles_0: 'admin, editor',
        by_1: 'id',
        group_1: '',
        roles_1: 'ignored',
        by_2: 'id',
        group_2: 'g-123',
        roles_2: 'viewer',
        defaultRoles: 'member',
      });
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe(`${ROLES}?saved=1`);
      expect(await f.sso.fetchRoleMapping(CUSTOMER)).toMatchObject({
        rules: [
          { groupDisplayName: 'App-Admins', roles: ['admin', 'editor'] },
          { groupId: 'g-123', roles: ['viewer'] },
        ],
        defaultRoles: ['member'],
      });
      const after = await agent.get(saved.headers.location!).set(ADMIN);
      expect(after.text).toContain('id="saved"');
      expect(after.text).toContain('value="App-Admins"');
      expect(after.text).toContain('value="admin, editor"');
      expect(after.text).toMatch(/<select id="by_1" name="by_1">\s*<option value="name">displayName<\/option><option value="id" selected>/);
    });

    it('refuses an invalid mapping with 400 and the reason, keeping the stored one; refuses a POST without CSRF', async () => {
      await f.sso.setRoleMapping(CUSTOMER, { rules: [{ groupId: 'kept', roles: ['admin'] }] });
      const before = await f.sso.fetchRoleMapping(CUSTOMER);
      const agent = f.agent();
      const token = csrfTokenOf((await agent.get(ROLES).set(ADMIN)).text);
      const invalid = await agent.post(ROLES).set(ADMIN).type('form').send({ _csrf: token, group_0: 'G', roles_0: '' });
      expect(invalid.status).toBe(400);
      expect(invalid.text).toContain('id="error"');
      expect(invalid.text).toContain('roles');
      const forged = await f.agent().post(ROLES).set(ADMIN).type('form').send({ group_0: 'G', roles_0: 'admin' });
      expect(forged.status).toBe(403);
      expect(await f.sso.fetchRoleMapping(CUSTOMER)).toEqual(before);
    });

    it('shows, on the customer page, the roles each admitted SSO user has now', async () => {
      // Alice (admitted at her last login) joins a group through SCIM; the mapping gives its members a role.
      const group = await f
        .agent()
        .post('/scim/v2/Groups')
        .set('Authorization', `Bearer ${f.token}`)
        .send({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'Role Holders',
          members: [{ value: f.userIds['alice@acme.test'] }],
        });
      expect(group.status).toBe(201);
      await f.sso.setRoleMapping(CUSTOMER, { rules: [{ groupId: group.body.id, roles: ['auditor', 'viewer'] }], defaultRoles: ['member'] });
      const page = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
      expect(page.text).toContain('<th scope="col">Roles now</th>');
      expect(page.text).toMatch(/<code>00u-alice<\/code>.*?<td>auditor, viewer, member<\/td>/s);
      // Bob's last login was refused: no roles shown.
      expect(page.text).toMatch(/<code>00u-bob<\/code>(?:(?!<\/tr>).)*<td><\/td>/s);
      const report = await f.sso.matchingReport(CUSTOMER);
      const current = report.strategies.find((s) => s.strategy === report.currentStrategy)!;
      expect(current.admitted.examples.find((e) => e.ssoUser.subject === '00u-alice')?.roles).toEqual(['auditor', 'viewer', 'member']);
      await f.agent().delete(`/scim/v2/Groups/${group.body.id}`).set('Authorization', `Bearer ${f.token}`);
    });

    it('escapes hostile group names and roles', async () => {
      await f.sso.setRoleMapping(CUSTOMER, { rules: [{ groupDisplayName: HOSTILE_NAME, roles: ['"><b>x'] }] });
      const page = await f.agent().get(ROLES).set(ADMIN);
      expect(page.text).not.toContain(HOSTILE_NAME);
      expect(page.text).not.toContain('"><b>x');
      expect(page.text).toContain('&quot;&gt;&lt;img');
    });

    it('saves back, unchanged, the largest mapping allowed, and answers a form past its cap with 413', async () => {
      // 200 rules of a 253-character group name of 3-byte characters and 20 roles of characters that are
      // percent-encoded: about 1.6 MB of form, the worst the mapping's limits allow.
      const role = (j: number) => `${String(j).padStart(2, '0')}${'%&+'.repeat(32)}`;
      const rules = Array.from({ length: MAX_ROLE_RULES }, (_, i) => ({
        groupDisplayName: `${'€'.repeat(250)}${String(i).padStart(3, '0')}`,
        roles: Array.from({ length: MAX_ROLES_PER_RULE }, (_, j) => role(j)),
      }));
      const largest = await f.sso.setRoleMapping(CUSTOMER, { rules, defaultRoles: ['member'] });
      const agent = f.agent();
      const page = (await agent.get(ROLES).set(ADMIN)).text;
      const unescape = (v: string) => v.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
      // Every field exactly as the browser would send it back.
      const fields: [string, string][] = [['_csrf', csrfTokenOf(page)]];
      for (const m of page.matchAll(/<input id="[^"]+" name="([^"]+)" value="([^"]*)"/g)) fields.push([m[1]!, unescape(m[2]!)]);
      for (const m of page.matchAll(/<select id="[^"]+" name="([^"]+)">([\s\S]*?)<\/select>/g)) fields.push([m[1]!, /value="(\w+)" selected/.exec(m[2]!)![1]!]);
      const body = new URLSearchParams(fields).toString();
      expect(body.length).toBeGreaterThan(1_500_000);
      const saved = await agent.post(ROLES).set(ADMIN).type('form').send(body);
      expect(saved.status).toBe(303);
      expect(await f.sso.fetchRoleMapping(CUSTOMER)).toMatchObject({ rules: largest.rules, defaultRoles: ['member'] });
      const tooLarge = await agent
        .post(ROLES)
        .set(ADMIN)
        .type('form')
        .send(`${body}&pad=${'x'.repeat(ROLES_FORM_LIMIT_BYTES)}`);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.text).toContain('The form is larger than this page accepts.');
    });
  });
});
