/**
 * The scim-sso instance the tests use: the Express handle of `scim-sso/express` (src/express/index.ts) and
 * the Koa handle of `scim-sso/koa` (src/koa/index.ts) on ONE core, plus the internals the public handle does
 * not carry (src/internal.ts): the store, the raw SCIM handler, the resolved options, the login runtime.
 */
import { expressHandle, type ScimSso as ExpressScimSso } from '../../src/express/handle.js';
import { internalsOf, type Internals } from '../../src/internal.js';
import { koaHandle, type KoaScimSso } from '../../src/koa/handle.js';
import type { ScimSsoOptions } from '../../src/options.js';
import type { ScimRequest } from '../../src/scim/http.js';
import { createScimSso } from '../../src/sso.js';

export interface ScimSso extends ExpressScimSso {
  /** The Koa handle on the same core (same store, rate limits, runtime). */
  readonly koa: KoaScimSso;
  readonly store: Internals['store'];
  readonly handleScim: Internals['handleScim'];
  readonly options: Internals['options'];
  readonly runtime: Internals['runtime'];
}

export function scimSso(options: ScimSsoOptions = {}): ScimSso {
  const core = createScimSso(options);
  const internals = internalsOf(core);
  const koa = koaHandle(core);
  return Object.assign(expressHandle(core), {
    koa,
    store: internals.store,
    handleScim: internals.handleScim,
    options: internals.options,
    runtime: internals.runtime,
  });
}

/** A SCIM request for `handleScim` as an IdP sends it: bearer token, SCIM JSON body, query string. */
export function scimRequest(token: string, method: string, path: string, options: { body?: unknown; query?: string; baseUrl?: string } = {}): ScimRequest {
  return {
    method,
    path,
    query: new URLSearchParams(options.query ?? ''),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    baseUrl: options.baseUrl ?? 'http://127.0.0.1/scim/v2',
  };
}
