/**
 * The factory: parse the options once, wire the store, the SCIM handler and the management API, and return
 * a handle that is itself Express middleware (`app.use(sso)`).
 */
import type { RequestHandler } from 'express';
import { connectionManager } from './connections.js';
import { expressScimMiddleware } from './express.js';
import { parseOptions, type ResolvedOptions, type ScimSsoOptions } from './options.js';
import { createScimHandler, type ScimHandler } from './scim/handler.js';
import { memoryStore } from './store/memory.js';
import type { Store } from './store/store.js';

export type ScimSso = RequestHandler &
  ReturnType<typeof connectionManager> & {
    /** The resolved options (defaults applied). */
    readonly options: Readonly<ResolvedOptions>;
    /** The store in use. */
    readonly store: Store;
    /** The framework-neutral SCIM handler, for adapters and tests. */
    readonly handleScim: ScimHandler;
  };

/** Creates a scim-sso instance. Throws ScimSsoConfigError('invalid_options') on bad options. */
export function scimSso(input: ScimSsoOptions = {}): ScimSso {
  const options = parseOptions(input);
  const store = options.store ?? memoryStore();
  const onError = options.onError ?? ((error: unknown) => console.error('[scim-sso] unexpected error', error));
  const handleScim = createScimHandler({
    store,
    paging: { defaultCount: options.defaultPageSize, maxCount: options.maxPageSize },
    filterLimits: { maxLength: options.maxFilterLength, maxDepth: options.maxFilterDepth },
    maxPatchOperations: options.maxPatchOperations,
    maxBodyBytes: options.maxBodyBytes,
    retryAfterSeconds: options.retryAfterSeconds,
    onError,
  });
  const middleware = expressScimMiddleware(handleScim, {
    basePath: options.basePath,
    maxBodyBytes: options.maxBodyBytes,
    publicBaseUrl: options.publicBaseUrl,
  });
  return Object.assign(middleware, connectionManager(store), { options, store, handleScim });
}
