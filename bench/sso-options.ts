/** How the benchmark instantiates scim-sso. */
import type { ScimSsoOptions } from '../src/index.js';
import { expressHandle, type ScimSso as ExpressScimSso } from '../src/express/handle.js';
import { internalsOf, type Internals } from '../src/internal.js';
import { createScimSso } from '../src/sso.js';

/** The Express handle of `scim-sso/express`, plus the internals the benchmark drives directly (src/internal.ts). */
export interface BenchSso extends ExpressScimSso {
  readonly handleScim: Internals['handleScim'];
  readonly options: Internals['options'];
}

/**
 * scimSso with its per-connection rate limit raised out of the way (its code path still runs on every
 * request): a throughput benchmark must measure work, not 429s.
 */
export function unlimitedSso(options: ScimSsoOptions): BenchSso {
  const core = createScimSso({ ...options, rateLimit: { requestsPerSecond: 1e9, burst: 1e9 } });
  const { handleScim, options: resolved } = internalsOf(core);
  return Object.assign(expressHandle(core), { handleScim, options: resolved });
}
