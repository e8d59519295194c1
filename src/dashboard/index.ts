/**
 * The admin dashboard: `app.use('/admin', sso.dashboard({ authorize }))`. An Express Router serving
 * server-rendered pages (no build step). Every request is refused (403) unless `authorize(req)` resolves to
 * exactly `true`; without `authorize`, everyone is refused. POSTs also need the CSRF token (csrf.ts).
 *
 * Routes (relative to the mount path):
 *   GET  /                                   Customers
 *   GET  /customers/:customerId              A customer: connection, client, SCIM users, groups, SSO users
 *   POST /customers/:customerId/scim-token   Rotate the SCIM token (answers with the new token, once)
 *   GET  /customers/:customerId/matching     SCIM Matching (?strategy= to preview one)
 *   GET  /customers/:customerId/matching.json  The matching report as JSON
 *   POST /customers/:customerId/matching     Save the strategy (updateOidcClient), then 303 to the page
 *   GET  /customers/:customerId/compare?subject=…  Compare one SSO user with the candidate SCIM users
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError } from '../errors.js';
import { isMatchingStrategy } from '../match/strategies.js';
import { hashToken } from '../scim/auth.js';
import { offsetParam, type DashboardApi } from './api.js';
import { loadCompare } from './compare-data.js';
import { comparePage } from './compare-page.js';
import { createFlash } from './flash.js';
import { createCsrf } from './csrf.js';
import { customerPage, loadCustomer } from './customer-page.js';
import { customersPage, loadCustomerRows } from './customers-page.js';
import { enc, html } from './html.js';
import { messagePage, type PageContext } from './layout.js';
import { matchingModel } from './matching-model.js';
import { matchingPage } from './matching-page.js';

export interface DashboardOptions {
  /**
   * Decides who may use the dashboard: only a (resolved) `true` lets a request through. Required: without
   * it every request is refused with 403. Throwing or rejecting refuses too (and is reported to onError).
   */
  authorize?: (req: Request) => boolean | Promise<boolean>;
  /** HMAC key of the CSRF tokens, at least 32 characters; the same on every instance. Default: random per process. */
  csrfSecret?: string;
  /** Where the 403 page links to for logging in (e.g. `/admin/login`). */
  loginUrl?: string;
}

const GRACE_CHOICES = new Set([0, 3600, 86_400]);
/**
 * The grace a rotation gets unless the admin chooses otherwise: one hour. With none, the IdP's provisioning
 * fails (401) from the rotation until someone pastes the new token into it, and IdPs pause or quarantine an
 * app after repeated failures; an hour covers the paste. For a leaked token the form offers "stop at once".
 */
export const DEFAULT_GRACE_SECONDS = 3600;

export function createDashboard(api: DashboardApi, options: DashboardOptions = {}, onError: (error: unknown) => void = console.error): Router {
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new ScimSsoConfigError('invalid_argument', 'dashboard: authorize must be a function (req) => boolean | Promise<boolean>');
  }
  if (options.loginUrl !== undefined && (typeof options.loginUrl !== 'string' || !/^(\/(?!\/)|https?:\/\/)/.test(options.loginUrl))) {
    throw new ScimSsoConfigError('invalid_argument', 'dashboard: loginUrl must be a path or an http(s) URL');
  }
  const csrf = createCsrf(options.csrfSecret);
  const flash = createFlash(options.csrfSecret);
  const { authorize, loginUrl } = options;
  const router = Router();
  const nonceOf = (res: Response) => res.locals.scimSsoDashboardNonce as string;
  const ctx = (req: Request, res: Response): PageContext => ({ base: req.baseUrl, nonce: nonceOf(res), csrfToken: csrf.issue(req, res) });
  const fail = (req: Request, res: Response, status: number, title: string, message: string) =>
    void res.status(status).type('html').send(messagePage({ base: req.baseUrl, nonce: nonceOf(res) }, title, message));

  router.use((_req, res, next) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.scimSsoDashboardNonce = nonce;
    res.set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
      'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    });
    next();
  });

  router.use(async (req, res, next) => {
    let allowed = false;
    if (authorize) {
      try {
        allowed = (await authorize(req)) === true;
      } catch (error) {
        onError(error);
      }
    }
    if (allowed) return next();
    const body = html`The dashboard is only for administrators.${loginUrl ? html` <a href="${loginUrl}">Log in</a>.` : ''}`;
    res.status(403).type('html').send(messagePage({ base: req.baseUrl, nonce: nonceOf(res) }, 'Forbidden', body));
  });

  router.use(express.urlencoded({ extended: false, limit: '16kb' }));
  router.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (!csrf.verify(req)) return fail(req, res, 403, 'Forbidden', 'The form had expired or did not come from this dashboard (invalid CSRF token). Reload the page and try again.');
    next();
  });

  const customerIdOf = (req: Request) => checkCustomerId(String(req.params.customerId));

  router.get('/', async (req, res) => {
    res.type('html').send(customersPage(ctx(req, res), await loadCustomerRows(api)));
  });

  router.get('/customers/:customerId', async (req, res) => {
    const customerId = customerIdOf(req);
    const offsets = { users: offsetParam(req.query.users), groups: offsetParam(req.query.groups), sso: offsetParam(req.query.sso) };
    const data = await loadCustomer(api, customerId, offsets);
    if (!data) return fail(req, res, 404, 'Not found', `No customer "${customerId}".`);
    // The reveal is sealed to the token hash the shared store holds now: it opens on any instance.
    const tokenHash = flash.pending(req) ? ((await api.store.getConnectionByCustomer(customerId))?.tokenHash ?? null) : null;
    const rotatedToken = flash.take(req, res, `${req.baseUrl}/customers/${enc(customerId)}`, tokenHash);
    res.type('html').send(customerPage(ctx(req, res), data, rotatedToken ?? undefined));
  });

  router.post('/customers/:customerId/scim-token', async (req, res) => {
    const customerId = customerIdOf(req);
    const grace = Number((req.body as Record<string, unknown>)?.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    if (!GRACE_CHOICES.has(grace)) return fail(req, res, 400, 'Bad request', 'Choose how long the old token keeps working.');
    let token: string;
    try {
      ({ token } = await api.rotateScimToken(customerId, { graceSeconds: grace }));
    } catch (error) {
      // Two admins rotated at once: the other rotation won and its token is the live one; nothing changed here.
      if (!(error instanceof ScimSsoConfigError) || error.code !== 'rotation_conflict') throw error;
      return fail(req, res, 409, 'Conflict', 'Another rotation of this token happened at the same moment and won. Its new token is the current one; this rotation changed nothing.');
    }
    // POST → 303 → GET: the new token is shown once, and reloading the page cannot rotate it again.
    const page = `${req.baseUrl}/customers/${enc(customerId)}`;
    flash.put(req, res, page, token, hashToken(token));
    res.redirect(303, page);
  });

  router.get('/customers/:customerId/matching.json', async (req, res) => {
    const customerId = customerIdOf(req);
    if (!(await api.fetchOidcClient(customerId))) return void res.status(404).json({ error: 'oidc_client_not_found' });
    res.json(await api.matchingReport(customerId));
  });

  router.get('/customers/:customerId/matching', async (req, res) => {
    const customerId = customerIdOf(req);
    if (!(await api.fetchOidcClient(customerId))) return fail(req, res, 404, 'Not found', `Customer "${customerId}" has no OIDC client.`);
    const model = matchingModel(await api.matchingReport(customerId), `${req.baseUrl}/customers/${enc(customerId)}/compare?subject=`);
    res.type('html').send(matchingPage(ctx(req, res), model, { requested: req.query.strategy, saved: req.query.saved === '1' }));
  });

  router.post('/customers/:customerId/matching', async (req, res) => {
    const customerId = customerIdOf(req);
    const strategy = (req.body as Record<string, unknown>)?.strategy;
    if (!isMatchingStrategy(strategy)) return fail(req, res, 400, 'Bad request', 'Unknown matching strategy.');
    await api.updateOidcClient(customerId, { matchingStrategy: strategy });
    res.redirect(303, `${req.baseUrl}/customers/${enc(customerId)}/matching?saved=1`);
  });

  router.get('/customers/:customerId/compare', async (req, res) => {
    const customerId = customerIdOf(req);
    const subject = req.query.subject;
    if (typeof subject !== 'string' || subject === '') return fail(req, res, 400, 'Bad request', 'Which SSO user? (?subject=…)');
    const data = await loadCompare(api, customerId, subject);
    if (!data) return fail(req, res, 404, 'Not found', `Customer "${customerId}" has no SSO user "${subject}".`);
    res.type('html').send(comparePage(ctx(req, res), data));
  });

  router.use((req: Request, res: Response) => fail(req, res, 404, 'Not found', 'No such dashboard page.'));

  const errors: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof ScimSsoConfigError) {
      const notFound = error.code === 'connection_not_found' || error.code === 'oidc_client_not_found' || error.code === 'invalid_argument';
      return fail(req, res, notFound ? 404 : 400, notFound ? 'Not found' : 'Bad request', error.message);
    }
    const status = (error as { status?: unknown; type?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) return fail(req, res, status, 'Bad request', 'The request could not be read.');
    onError(error);
    fail(req, res, 500, 'Error', 'The dashboard failed to handle this request.');
  };
  router.use(errors);
  return router;
}
