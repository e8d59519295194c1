/**
 * Reads the Single sign-on form as hostile input: own string fields only, bounded lengths, a URL issuer
 * without query or fragment, a client id without control characters, at most 20 OAuth scope tokens.
 * Pure; the live discovery check comes after (discovery-check.ts).
 */
import { hasTextDirectionControl } from '../text-direction.js';
import type { SsoFormValues } from './sso-page.js';

const IDP_TYPES = ['Okta', 'MicrosoftEntra', 'Generic'];
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
const MAX_SCOPES = 20;
/** Most Google Workspace domains the form takes (the client's `requiredClaims` limit). */
const MAX_DOMAINS = 100;
/** A domain name: labels of letters, digits and hyphens, at least two (Google's `hd` is the domain itself). */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export type ParsedSsoForm =
  | { ok: true; values: SsoFormValues; clientSecret: string | null; scopes: string[]; workspaceDomains: string[] }
  | { ok: false; error: string; values: SsoFormValues };

const field = (form: Record<string, unknown>, name: string, max: number): string | null => {
  const value = Object.hasOwn(form, name) ? form[name] : '';
  return typeof value === 'string' && value.length <= max ? value : null;
};

export function parseSsoForm(form: Record<string, unknown>): ParsedSsoForm {
  const idpType = field(form, 'idpType', 50);
  const issuer = field(form, 'issuer', 2000);
  const clientId = field(form, 'clientId', 500);
  const clientSecret = field(form, 'clientSecret', 2000);
  const scopesText = field(form, 'scopes', 500);
  const workspaceDomains = field(form, 'workspaceDomains', 2000);
  const values: SsoFormValues = {
    idpType: idpType && IDP_TYPES.includes(idpType) ? idpType : 'Okta',
    issuer: (issuer ?? '').trim(),
    clientId: (clientId ?? '').trim(),
    scopes: (scopesText ?? '').trim(),
    workspaceDomains: (workspaceDomains ?? '').trim().toLowerCase(),
  };
  const error = (message: string): ParsedSsoForm => ({ ok: false, error: message, values });
  if (!idpType || !IDP_TYPES.includes(idpType)) return error('Choose the identity provider.');
  const url = URL.canParse(values.issuer) ? new URL(values.issuer) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    return error('The issuer must be a URL such as https://your-org.okta.com, without query or fragment.');
  }
  // Control and text-direction characters: a client ID is shown to the app's admins (src/text-direction.ts).
  if (!values.clientId || /\p{Cc}/u.test(values.clientId) || hasTextDirectionControl(values.clientId)) {
    return error('Enter the client ID of the application in your IdP.');
  }
  if (clientSecret === null || /\p{Cc}/u.test(clientSecret)) return error('The client secret is too long or holds control characters.');
  if (scopesText === null) return error('The scopes are too long.');
  const scopes = values.scopes.split(/\s+/).filter(Boolean);
  if (scopes.length > MAX_SCOPES || !scopes.every((s) => SCOPE.test(s))) return error(`Scopes are up to ${MAX_SCOPES} OAuth scope names separated by spaces.`);
  if (!scopes.includes('openid')) scopes.unshift('openid');
  const domains = values.workspaceDomains.split(/[\s,]+/).filter(Boolean);
  if (workspaceDomains === null || domains.length > MAX_DOMAINS || !domains.every((d) => DOMAIN.test(d))) {
    return error(`The Google Workspace domains are up to ${MAX_DOMAINS} domain names such as example.com, separated by commas.`);
  }
  return { ok: true, values, clientSecret: clientSecret === '' ? null : clientSecret, scopes, workspaceDomains: [...new Set(domains)] };
}

/**
 * The client's required claims with the form's Google Workspace domains as `hd` (none when the field is
 * empty); claims the app required through the API are kept.
 */
export function withWorkspaceDomains(current: Readonly<Record<string, string[]>>, domains: readonly string[]): Record<string, string[]> {
  const kept = Object.fromEntries(Object.entries(current).filter(([name]) => name !== 'hd'));
  return domains.length === 0 ? kept : { ...kept, hd: [...domains] };
}
