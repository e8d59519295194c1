/**
 * Dashboard token rotation behind a load balancer: two app instances (two scimSso, two dashboards, one on
 * Express and one on Koa) on one store. The one-time reveal set by the POST on instance A opens on instance B, with or without a shared
 * csrfSecret; a reveal of a token already replaced by another rotation shows nothing; the default grace
 * keeps the previous token working.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso, type ScimSso } from '../support/sso.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import { ADMIN, csrfTokenOf, dashboardApp, defaultAuthorize } from './fixture.js';

interface Instance {
  sso: ScimSso;
  origin: string;
  server: Server;
}

/** The cookies a response sets, as `name=value` (ready for a Cookie header). */
const setCookies = (response: Response) => response.headers.getSetCookie().map((line) => line.split(';')[0]!);

describe.each(STORE_KINDS)('dashboard token rotation across instances (%s store)', (kind) => {
  for (const csrfSecret of [undefined, 'a shared dashboard secret of at least 32 chars']) {
    describe(csrfSecret ? 'with a shared csrfSecret' : 'without a csrfSecret', () => {
      let made: TestStore;
      const instances: Instance[] = [];
      const errors: unknown[] = [];

      beforeAll(async () => {
        made = await makeStore(kind, `rotation-instances-${kind}`);
        for (let i = 0; i < 2; i++) {
          const sso = scimSso({ store: made.store, onError: (e) => errors.push(e) });
          // Instance 0 on Express, instance 1 on Koa: the reveal opens across frameworks too.
          const server = dashboardApp(sso, i === 0 ? 'express' : 'koa', { authorize: defaultAuthorize, ...(csrfSecret ? { csrfSecret } : {}) });
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          instances.push({ sso, server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
        }
      });
      afterAll(async () => {
        await Promise.all(
          instances.map(
            (i) =>
              new Promise<void>((resolve) => {
                i.server.close(() => resolve());
                i.server.closeAllConnections();
              }),
          ),
        );
        await made?.cleanup();
        expect(errors).toEqual([]);
      });

      const page = (customerId: string) => `/admin/customers/${customerId}`;

      /** GET the customer page on instance `on` with these cookies. */
      const get = (on: number, customerId: string, cookies: string[] = []) =>
        fetch(`${instances[on]!.origin}${page(customerId)}`, { headers: { ...ADMIN, cookie: cookies.join('; ') } });

      /** Rotates through the form on instance `on` (its own CSRF cookie and token); returns the cookies the 303 sets. */
      async function rotate(on: number, customerId: string, graceSeconds?: string): Promise<string[]> {
        const form = await get(on, customerId);
        const csrfCookies = setCookies(form);
        const body = new URLSearchParams({ _csrf: csrfTokenOf(await form.text()), ...(graceSeconds === undefined ? {} : { graceSeconds }) });
        const response = await fetch(`${instances[on]!.origin}${page(customerId)}/scim-token`, {
          method: 'POST',
          redirect: 'manual',
          headers: { ...ADMIN, cookie: csrfCookies.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        expect(response.status).toBe(303);
        return setCookies(response);
      }

      const shownToken = (html: string) => /<code id="new-token" class="secret"[^>]*>([^<]+)<\/code>/.exec(html)?.[1] ?? null;
      const scimStatus = (on: number, token: string) =>
        fetch(`${instances[on]!.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

      it('the reveal set on A opens once on B, and the token it shows works', async () => {
        const customerId = `reveal-${Math.random().toString(36).slice(2, 8)}`;
        await instances[0]!.sso.createScimConnection({ customerId });
        const flash = await rotate(0, customerId, '0');
        const shown = await get(1, customerId, flash);
        const token = shownToken(await shown.text());
        expect(token).toMatch(/^scim_/);
        expect(await scimStatus(1, token!)).toBe(200);
        expect(await scimStatus(0, token!)).toBe(200);
        // Shown once: the GET clears the cookie; a reload (without it) shows no token.
        expect(setCookies(shown).some((c) => c.startsWith('scim_sso_dashboard_flash='))).toBe(true);
        expect(shownToken(await (await get(1, customerId)).text())).toBeNull();
      });

      it('a reveal whose token another rotation has replaced shows nothing (never a dead token)', async () => {
        const customerId = `replaced-${Math.random().toString(36).slice(2, 8)}`;
        await instances[0]!.sso.createScimConnection({ customerId });
        const first = await rotate(0, customerId, '0');
        const second = await rotate(1, customerId, '0');
        expect(shownToken(await (await get(1, customerId, first)).text())).toBeNull();
        const token = shownToken(await (await get(0, customerId, second)).text());
        expect(token).toMatch(/^scim_/);
        expect(await scimStatus(0, token!)).toBe(200);
      });

      it('the default grace is one hour: the form preselects it, and a POST without a choice keeps the previous token working', async () => {
        const customerId = `grace-${Math.random().toString(36).slice(2, 8)}`;
        const { token: previous } = await instances[0]!.sso.createScimConnection({ customerId });
        expect(await (await get(0, customerId)).text()).toContain('<option value="3600" selected>1 hour</option>');
        const flash = await rotate(0, customerId);
        const token = shownToken(await (await get(1, customerId, flash)).text());
        expect(await scimStatus(1, token!)).toBe(200);
        expect(await scimStatus(1, previous)).toBe(200);
        const expires = (await instances[1]!.sso.fetchScimConnection(customerId))!.previousTokenExpiresAt!;
        const graceMs = Date.parse(expires) - Date.now();
        expect(graceMs).toBeGreaterThan(0);
        expect(graceMs).toBeLessThanOrEqual(3600_000);
      });
    });
  }
});
