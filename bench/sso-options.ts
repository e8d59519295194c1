/** How the benchmark instantiates scim-sso. */
import { scimSso, type ScimSso, type ScimSsoOptions } from '../src/index.js';

/**
 * scimSso with its per-connection rate limit raised out of the way (its code path still runs on every
 * request): a throughput benchmark must measure work, not 429s. An option set without `rateLimit` (older
 * versions) rejects the key, and then scimSso is built without it.
 */
export function unlimitedSso(options: ScimSsoOptions): ScimSso {
  try {
    return scimSso({ ...options, ...({ rateLimit: { requestsPerSecond: 1e9, burst: 1e9 } } as object) });
  } catch (error) {
    if ((error as { code?: string }).code !== 'invalid_options') throw error;
    return scimSso(options);
  }
}
