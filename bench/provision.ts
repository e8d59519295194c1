/** Provisioning users through scim-sso's own SCIM handler, so that they are stored exactly as scim-sso stores them. */
import type { BenchSso } from './sso-options.js';
import { oktaUser } from './users.js';

/** POSTs body(0) … body(count-1) through the SCIM handler, 64 at a time; returns the ids in that order. */
export async function provision(
  handle: BenchSso['handleScim'],
  token: string,
  count: number,
  body: (n: number) => Record<string, unknown> = (n) => oktaUser('u', n),
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const response = await handle({
        method: 'POST',
        path: '/Users',
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(body(n)),
        baseUrl: 'http://127.0.0.1/scim/v2',
      });
      if (response.status !== 201) throw new Error(`provision: POST answered ${response.status}: ${response.body}`);
      ids[n] = (JSON.parse(response.body ?? '{}') as { id: string }).id;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return ids;
}
