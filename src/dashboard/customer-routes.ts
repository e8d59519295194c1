/**
 * The dashboard's pages of one customer (`/customers/:customerId[/action]`), one function each, found by
 * method and action in CUSTOMER_ROUTES. src/dashboard/index.ts authorizes the request, checks its CSRF
 * token and hands the page a CustomerTurn.
 */
import { ScimSsoConfigError } from '../errors.js';
import { isMatchingStrategy, isSamlMatchingStrategy } from '../match/strategies.js';
import { hashToken } from '../scim/auth.js';
import { offsetParam, type DashboardApi } from './api.js';
import { loadCompare } from './compare-data.js';
import { comparePage } from './compare-page.js';
import type { CookieRequest, SetCookie } from './csrf.js';
import { customerPage, loadCustomer } from './customer-page.js';
import type { DashboardResponse } from './exchange.js';
import type { Flash } from './flash.js';
import type { SafeHtml } from './html.js';
import type { PageContext } from './layout.js';
import { matchingModel } from './matching-model.js';
import { matchingPage } from './matching-page.js';
import { mappingFromForm, rolesPage } from './roles-page.js';

/**
 * The grace a rotation gets unless the admin chooses otherwise: one hour. With none, the IdP's provisioning
 * fails (401) from the rotation until someone pastes the new token into it, and IdPs pause or quarantine an
 * app after repeated failures; an hour covers the paste. For a leaked token the form offers "stop at once".
 */
export const DEFAULT_GRACE_SECONDS = 3600;
const GRACE_CHOICES = new Set([0, 3600, 86_400]);

/** One authorized request of a customer's dashboard page. */
export interface CustomerTurn {
  api: DashboardApi;
  customerId: string;
  /** The customer's page (`<prefix>/customers/<id>`), for links and redirects. */
  customerUrl: string;
  query: URLSearchParams;
  /** The POSTed form (CSRF checked); empty for a GET. */
  form: Record<string, unknown>;
  /** The page context, issuing the CSRF token of the page's forms. */
  ctx(): PageContext;
  /** The one-time token reveal after a redirect, and the cookies it reads and sets. */
  flash: Flash;
  cookieReq: CookieRequest;
  setCookie: SetCookie;
  page(status: number, body: string): DashboardResponse;
  json(status: number, body: unknown): DashboardResponse;
  redirect(location: string): DashboardResponse;
  fail(status: number, title: string, message: string | SafeHtml): DashboardResponse;
}

type CustomerRoute = (turn: CustomerTurn) => Promise<DashboardResponse>;

/** Whether the customer has an SSO connection (OIDC client or SAML connection): the matching pages need one. */
async function hasSso(api: DashboardApi, customerId: string): Promise<boolean> {
  return (await api.fetchOidcClient(customerId)) !== null || (await api.fetchSamlConnection(customerId)) !== null;
}

/** GET: the customer's connection, client, SCIM users, groups and SSO users, and a rotated token once. */
async function showCustomer(turn: CustomerTurn): Promise<DashboardResponse> {
  const { api, customerId, query } = turn;
  const offsets = { users: offsetParam(query.get('users')), groups: offsetParam(query.get('groups')), sso: offsetParam(query.get('sso')) };
  const data = await loadCustomer(api, customerId, offsets);
  if (!data) return turn.fail(404, 'Not found', `No customer "${customerId}".`);
  // The reveal is sealed to the token hash the shared store holds now: it opens on any instance.
  const tokenHash = turn.flash.pending(turn.cookieReq) ? ((await api.store.getConnectionByCustomer(customerId))?.tokenHash ?? null) : null;
  const rotatedToken = turn.flash.take(turn.cookieReq, turn.setCookie, turn.customerUrl, tokenHash);
  return turn.page(200, customerPage(turn.ctx(), data, rotatedToken ?? undefined));
}

/** POST scim-token: rotate with the grace chosen; POST → 303 → GET, so the new token is shown once and a reload cannot rotate again. */
async function rotateToken(turn: CustomerTurn): Promise<DashboardResponse> {
  const grace = Number(turn.form.graceSeconds ?? DEFAULT_GRACE_SECONDS);
  if (!GRACE_CHOICES.has(grace)) return turn.fail(400, 'Bad request', 'Choose how long the old token keeps working.');
  let token: string;
  try {
    ({ token } = await turn.api.rotateScimToken(turn.customerId, { graceSeconds: grace }));
  } catch (error) {
    // Two admins rotated at once: the other rotation won and its token is the live one; nothing changed here.
    if (!(error instanceof ScimSsoConfigError) || error.code !== 'rotation_conflict') throw error;
    return turn.fail(
      409,
      'Conflict',
      'Another rotation of this token happened at the same moment and won. Its new token is the current one; this rotation changed nothing.',
    );
  }
  turn.flash.put(turn.cookieReq, turn.setCookie, turn.customerUrl, token, hashToken(token));
  return turn.redirect(turn.customerUrl);
}

/** GET matching.json: the matching report as JSON. */
async function matchingJson(turn: CustomerTurn): Promise<DashboardResponse> {
  if (!(await hasSso(turn.api, turn.customerId))) return turn.json(404, { error: 'sso_connection_not_found' });
  return turn.json(200, await turn.api.matchingReport(turn.customerId));
}

/** GET matching: SCIM Matching (?strategy= to preview one). */
async function showMatching(turn: CustomerTurn): Promise<DashboardResponse> {
  const { api, customerId, query } = turn;
  if (!(await hasSso(api, customerId))) return turn.fail(404, 'Not found', `Customer "${customerId}" has no OIDC client or SAML connection.`);
  const model = matchingModel(await api.matchingReport(customerId), `${turn.customerUrl}/compare?subject=`);
  const requested = query.get('strategy') ?? undefined;
  return turn.page(200, matchingPage(turn.ctx(), model, { requested, saved: query.get('saved') === '1' }));
}

/** POST matching: save the strategy of the customer's SAML connection or OIDC client, then 303 to the page. */
async function saveMatching(turn: CustomerTurn): Promise<DashboardResponse> {
  const { api, customerId } = turn;
  const strategy = turn.form.strategy;
  if (await api.fetchSamlConnection(customerId)) {
    if (!isSamlMatchingStrategy(strategy)) return turn.fail(400, 'Bad request', 'Unknown SAML matching strategy.');
    await api.updateSamlConnection(customerId, { matchingStrategy: strategy });
    return turn.redirect(`${turn.customerUrl}/matching?saved=1`);
  }
  if (!isMatchingStrategy(strategy)) return turn.fail(400, 'Bad request', 'Unknown matching strategy.');
  await api.updateOidcClient(customerId, { matchingStrategy: strategy });
  return turn.redirect(`${turn.customerUrl}/matching?saved=1`);
}

/** GET compare?subject=…: one SSO user beside the candidate SCIM users. */
async function showCompare(turn: CustomerTurn): Promise<DashboardResponse> {
  const subject = turn.query.get('subject');
  if (subject === null || subject === '') return turn.fail(400, 'Bad request', 'Which SSO user? (?subject=…)');
  const data = await loadCompare(turn.api, turn.customerId, subject);
  if (!data) return turn.fail(404, 'Not found', `Customer "${turn.customerId}" has no SSO user "${subject}".`);
  return turn.page(200, comparePage(turn.ctx(), data));
}

/** GET roles: the role mapping (IdP groups → app roles). */
async function showRoles(turn: CustomerTurn): Promise<DashboardResponse> {
  const mapping = await turn.api.fetchRoleMapping(turn.customerId);
  return turn.page(200, rolesPage(turn.ctx(), turn.customerId, mapping, { saved: turn.query.get('saved') === '1' }));
}

/** POST roles: save the role mapping, then 303 to the page; a mapping refused comes back as stored, with what was wrong. */
async function saveRoles(turn: CustomerTurn): Promise<DashboardResponse> {
  const { api, customerId } = turn;
  try {
    await api.setRoleMapping(customerId, mappingFromForm(turn.form));
  } catch (error) {
    if (!(error instanceof ScimSsoConfigError) || error.code !== 'invalid_argument') throw error;
    return turn.page(400, rolesPage(turn.ctx(), customerId, await api.fetchRoleMapping(customerId), { saved: false, error: error.message }));
  }
  return turn.redirect(`${turn.customerUrl}/roles?saved=1`);
}

/** A customer's pages by `<method> <action>`, the customer's own page by its method alone. */
export const CUSTOMER_ROUTES: ReadonlyMap<string, CustomerRoute> = new Map([
  ['GET', showCustomer],
  ['POST scim-token', rotateToken],
  ['GET matching.json', matchingJson],
  ['GET matching', showMatching],
  ['POST matching', saveMatching],
  ['GET compare', showCompare],
  ['GET roles', showRoles],
  ['POST roles', saveRoles],
]);
