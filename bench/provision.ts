/**
 * Provisioning users into scim-sso: through its own SCIM handler in process (`provision`, for the phases'
 * preload), or through its SCIM API over HTTP at a fixed concurrency (`provisionHttp`, the scale section),
 * so that they are stored exactly as scim-sso stores them.
 */
import { runLoad, type Req } from './load.js';
import type { Target } from './phases.js';
import type { BenchSso } from './sso-options.js';
import { externalIdOf, oktaUser, userNameOf, type KnownUser } from './users.js';
import { bodyText } from '../src/scim/response-body.js';

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
      ids[n] = (JSON.parse(bodyText(response.body) ?? '{}') as { id: string }).id;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return ids;
}

export interface HttpProvisioning {
  users: KnownUser[];
  seconds: number;
  /** Users created per second (every answer a 201 with the userName sent and an id). */
  rate: number;
  p50: number;
  p99: number;
}

/**
 * POSTs oktaUser(tag, from) … oktaUser(tag, from+count-1) to the server's SCIM API over HTTP, `connections`
 * at a time (autocannon, keep-alive), as an IdP provisions a large directory. Every answer must be a 201
 * carrying the userName sent and an id; the first wrong one fails the whole load. Returns the users in the
 * order they were sent, with the rate.
 */
export async function provisionHttp(target: Target, tag: string, from: number, count: number, connections = 16): Promise<HttpProvisioning> {
  const users: KnownUser[] = new Array(count);
  let n = 0;
  const result = await runLoad({
    baseUrl: target.baseUrl,
    token: target.token,
    connections,
    amount: count,
    next: (): Req => {
      const i = n++;
      const userName = userNameOf(tag, from + i);
      return {
        method: 'POST',
        path: '/Users',
        body: JSON.stringify(oktaUser(tag, from + i)),
        check: (status, text) => {
          if (status !== 201) return `status ${status}: ${text.slice(0, 200)}`;
          const user = JSON.parse(text) as { id?: unknown; userName?: unknown };
          if (typeof user.id !== 'string' || user.userName !== userName) return 'wrong user created';
          users[i] = { id: user.id, userName, externalId: externalIdOf(tag, from + i) };
          return null;
        },
      };
    },
  });
  const missing = users.length - users.filter(Boolean).length;
  if (result.failed || missing > 0) {
    throw new Error(`${target.name}: provisioning over HTTP failed: ${result.firstWrong ?? `${missing} users without an answer`}`);
  }
  return { users, seconds: result.seconds, rate: count / result.seconds, p50: result.p50, p99: result.p99 };
}
