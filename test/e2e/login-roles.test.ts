/**
 * Roles from groups, end to end: a customer's role mapping turns the SCIM groups the IdP pushes into app
 * roles at login; `requireActiveUser` refreshes them on every request, so a person removed from the admins
 * group in the IdP loses the role in their live session at the next request; `requireRole` answers 403.
 * Real IdP, real passport + sessions, SCIM over HTTP, both adapters and both stores.
 */
import Router from '@koa/router';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { SESSION_GROUPS_BYTES } from '../../src/guard/guard.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, SCIM_PATCH_SCHEMA, startLoginHarness, uid, type Customer, type Extensions, type LoginHarness } from './harness.js';

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** `/admin` behind `requireRole('admin')`, answering the session user; one route per adapter. */
const ADMIN_ROUTE: Extensions = {
  express(app, { sso }) {
    app.get('/admin', sso.requireRole('admin'), (req, res) => void res.json(req.user));
  },
  koa(app, { sso }) {
    const router = new Router();
    router.get('/admin', sso.koa.requireRole('admin'), (ctx) => {
      ctx.body = ctx.state.user;
    });
    app.use(router.routes());
  },
};

describe.each(STORE_KINDS)('roles from groups (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `roles-${adapter}`, extensions: ADMIN_ROUTE });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** SCIM over HTTP on instance 0 with the customer's token. */
    async function scim(c: Customer, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
      const { origin } = await h.instance(0);
      const response = await fetch(`${origin}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    }

    async function get(browser: Browser, path: string): Promise<{ status: number; body: any }> {
      const { origin } = await h.instance(0);
      const response = await browser.fetch(`${origin}${path}`);
      return { status: response.status, body: await response.json() };
    }

    /** A customer with a person, an "App-Admins" group holding them, and a "Staff" group holding them too. */
    async function setup() {
      const customerId = `roles-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'roles', idpType: 'Okta' });
      const sub = `${customerId}-sub`;
      const email = `${customerId}@corp.test`;
      h.idp.upsertAccount('roles', { sub, email, email_verified: true });
      const userId = await c.scim.createUser({ userName: email, active: true });
      const admins = await scim(c, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'App-Admins', members: [{ value: userId }] });
      const staff = await scim(c, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Staff', members: [{ value: userId }] });
      expect([admins.status, staff.status]).toEqual([201, 201]);
      const { sso } = await h.instance(0);
      await sso.setRoleMapping(customerId, {
        rules: [
          { groupDisplayName: 'app-admins', roles: ['admin', 'editor'] },
          { groupId: staff.body.id, roles: ['viewer', 'editor'] },
        ],
        defaultRoles: ['member'],
      });
      return { c, sub, userId, adminsId: admins.body.id as string, staffId: staff.body.id as string };
    }

    it('gives the session user its groups and roles at login, in the order of precedence', async () => {
      const { c, sub, adminsId, staffId } = await setup();
      const browser = new Browser();
      const login = await h.login(browser, c.customerId, sub);
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(login.body.roles).toEqual(['admin', 'editor', 'viewer', 'member']);
      expect(login.body.groups).toEqual([
        { id: adminsId, displayName: 'App-Admins' },
        { id: staffId, displayName: 'Staff' },
      ]);
      expect(await get(browser, '/admin')).toMatchObject({ status: 200, body: { roles: ['admin', 'editor', 'viewer', 'member'] } });
    });

    it('keeps about 16,000 characters of groups in the session, roles from all of them', async () => {
      // Found by an audit (2026-12-06): 1,000 groups of 1,024-character names made each session about 1 MB.
      const { c, sub, userId } = await setup();
      const long = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')}-${'n'.repeat(1000)}`);
      let lastId = '';
      for (const displayName of long) {
        const created = await scim(c, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: [{ value: userId }] });
        expect(created.status).toBe(201);
        lastId = created.body.id as string;
      }
      const { sso } = await h.instance(0);
      await sso.setRoleMapping(c.customerId, { rules: [{ groupId: lastId, roles: ['admin'] }], defaultRoles: [] });
      const browser = new Browser();
      const login = await h.login(browser, c.customerId, sub);
      expect(login.status).toBe(200);
      const kept = login.body.groups as { displayName: string }[];
      expect(kept.length).toBeGreaterThan(10);
      expect(kept.length).toBeLessThan(32);
      expect(JSON.stringify(kept).length).toBeLessThanOrEqual(SESSION_GROUPS_BYTES);
      expect(login.body.groupsTruncated).toBe(true);
      // The role comes from a group the session does not list.
      expect(kept.some((g) => g.displayName === long.at(-1))).toBe(false);
      expect(login.body.roles).toEqual(['admin']);
      // requireRole refreshes them the same way.
      const admin = await get(browser, '/admin');
      expect(admin.status).toBe(200);
      expect(admin.body).toMatchObject({ groupsTruncated: true, roles: ['admin'] });
      expect(admin.body.groups).toHaveLength(kept.length);
    });

    it('gives roles by name from groups whose names the session check does not read, and follows their renames', async () => {
      // The check names groups only as far as the session keeps them (Store.readSessionUser); a rule by name
      // is answered for the others through the groups' name index.
      const { c, sub, userId } = await setup();
      const names = [...Array.from({ length: 29 }, (_, i) => `${String(i).padStart(2, '0')}-${'n'.repeat(1000)}`), 'Auditors'];
      const ids: string[] = [];
      for (const displayName of names) {
        const created = await scim(c, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: [{ value: userId }] });
        expect(created.status).toBe(201);
        ids.push(created.body.id as string);
      }
      // A group of a mapped name that the person is not in gives nothing.
      expect((await scim(c, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Auditors-Elsewhere' })).status).toBe(201);
      const { sso } = await h.instance(0);
      await sso.setRoleMapping(c.customerId, {
        rules: [
          { groupDisplayName: 'AUDITORS', roles: ['auditor'] },
          { groupDisplayName: 'auditors-elsewhere', roles: ['outsider'] },
          { groupDisplayName: 'app-admins', roles: ['admin'] },
        ],
      });
      const browser = new Browser();
      const login = await h.login(browser, c.customerId, sub);
      expect(login.status).toBe(200);
      expect(login.body.roles).toEqual(['auditor', 'admin']);
      const first = await h.me(browser);
      expect(first).toMatchObject({ status: 200, body: { groupsTruncated: true, roles: ['auditor', 'admin'] } });
      const named = first.body.groups as { id: string; displayName: string }[];
      expect(named.map((g) => g.displayName)).not.toContain('Auditors');
      expect(named.slice(0, 2).map((g) => g.displayName)).toEqual(['App-Admins', 'Staff']);
      expect(named.slice(2).map((g) => g.id)).toEqual(ids.slice(0, named.length - 2));

      const rename = (displayName: string) =>
        scim(c, 'PATCH', `/Groups/${ids.at(-1)}`, { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: displayName }] });
      expect((await rename('Former-Auditors')).status).toBeLessThan(300);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { roles: ['admin'] } });
      expect((await rename('Auditors')).status).toBeLessThan(300);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { roles: ['auditor', 'admin'] } });
    });

    it('a person removed from the admins group in the IdP loses the role in their live session at the next request', async () => {
      const { c, sub, userId, adminsId } = await setup();
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      expect((await get(browser, '/admin')).status).toBe(200);

      // Okta's membership removal: PATCH the group with a remove on a members value path.
      const removed = await scim(c, 'PATCH', `/Groups/${adminsId}`, {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }],
      });
      expect(removed.status).toBeLessThan(300);

      const denied = await get(browser, '/admin');
      expect(denied).toEqual({
        status: 403,
        body: { error: 'forbidden', reason: 'missing_role', role: 'admin', message: expect.stringContaining('"admin"') },
      });
      // The session lives on (a missing role is not a deprovisioning), with the roles it has now.
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { roles: ['viewer', 'editor', 'member'] } });

      // Added back: the role returns at the next request, without a new login.
      const added = await scim(c, 'PATCH', `/Groups/${adminsId}`, {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
      });
      expect(added.status).toBeLessThan(300);
      expect(await get(browser, '/admin')).toMatchObject({ status: 200, body: { roles: ['admin', 'editor', 'viewer', 'member'] } });
    });

    it('a renamed group follows the mapping by displayName; a changed mapping applies at the next request', async () => {
      const { c, sub, adminsId } = await setup();
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      const renamed = await scim(c, 'PATCH', `/Groups/${adminsId}`, {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Former-Admins' }],
      });
      expect(renamed.status).toBeLessThan(300);
      expect((await get(browser, '/admin')).status).toBe(403);

      const { sso } = await h.instance(0);
      await sso.setRoleMapping(c.customerId, { rules: [{ groupId: adminsId, roles: ['admin'] }] });
      expect(await get(browser, '/admin')).toMatchObject({ status: 200, body: { roles: ['admin'] } });

      expect(await sso.deleteRoleMapping(c.customerId)).toBe(true);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { roles: [] } });
      expect((await get(browser, '/admin')).status).toBe(403);
    });

    it('requireRole ends the session of a deactivated person like requireActiveUser, and answers 401 without a session', async () => {
      const { c, sub, userId } = await setup();
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      await c.scim.patch(userId, [{ op: 'replace', path: 'active', value: false }]);
      expect(await get(browser, '/admin')).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });
      expect(await get(browser, '/admin')).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      expect(await get(new Browser(), '/admin')).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    });
  });
});
