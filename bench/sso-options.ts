/** How the benchmark instantiates scim-sso. */
import { scimSso, type ScimSso, type ScimSsoOptions } from '../src/index.js';

/**
 * scimSso with its per-connection rate limit raised out of the way (its code path still runs on every
 * request): a throughput benchmark must measure work, not 429s.
 */
export function unlimitedSso(options: ScimSsoOptions): ScimSso {
  return scimSso({ ...options, rateLimit: { requestsPerSecond: 1e9, burst: 1e9 } });
}
