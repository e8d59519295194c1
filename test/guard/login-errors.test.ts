/**
 * How IdP-side failures reach the browser (src/guard/login-errors.ts): an IdP that cannot be reached or does
 * not answer in time is a 503 `idp_unreachable` (worth retrying), an address the outbound guard refused a
 * 400 `idp_error`, and a name that does not resolve is the former, not the latter.
 */
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { toLoginError } from '../../src/guard/login-errors.js';
import { outboundFetch, OutboundFetchError, type HostResolver } from '../../src/net/outbound-fetch.js';

const wrapped = (cause: unknown) => new oidc.ClientError('something went wrong', { cause } as never);

describe('toLoginError for IdP-side failures', () => {
  it('answers 503 idp_unreachable for a timeout, whether openid-client raised it or the fetch signal did', () => {
    const signalTimeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    for (const error of [signalTimeout, wrapped(signalTimeout), Object.assign(new Error('operation timed out'), { code: 'OAUTH_TIMEOUT' })]) {
      expect(toLoginError(error, 'c')).toMatchObject({ code: 'idp_unreachable', status: 503 });
    }
  });

  it('answers a name refused for its address as one that does not resolve (503, one message); a refused IP literal or answer 400', async () => {
    // Telling them apart would let an IdP's discovery document probe the app's internal names (audit 28).
    expect(toLoginError(wrapped(new OutboundFetchError('the host x is not a public address', 'name')), 'c')).toMatchObject({
      code: 'idp_unreachable',
      status: 503,
      message: 'the identity provider could not be reached',
    });
    // An IP literal's address is no secret: said plainly.
    expect(toLoginError(wrapped(new OutboundFetchError('the host 10.0.0.1 is not a public address')), 'c')).toMatchObject({
      code: 'idp_error',
      status: 400,
      message: "the identity provider's address was refused: the host 10.0.0.1 is not a public address",
    });
    // An answer refused (too large, badly encoded) is not an address refused.
    expect(toLoginError(wrapped(new OutboundFetchError('the answer is larger than 1000000 bytes', 'answer')), 'c')).toMatchObject({
      code: 'idp_error',
      message: "the identity provider's answer was refused: the answer is larger than 1000000 bytes",
    });
    const unresolvable: HostResolver = (host, callback) => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    const failure = await outboundFetch({ maxBytes: 1000, allowPrivate: false, resolve: unresolvable })('https://idp.example.test/x').catch((e: unknown) => e);
    expect(failure).not.toBeInstanceOf(OutboundFetchError);
    expect(toLoginError(wrapped(failure), 'c')).toMatchObject({ code: 'idp_unreachable', status: 503 });
    // Any resolver failure, not only a name that does not exist.
    for (const code of ['EAI_FAIL', 'EAI_AGAIN', 'EAI_NODATA']) {
      const dns = Object.assign(new Error(`getaddrinfo ${code} idp.example.test`), { code, syscall: 'getaddrinfo' });
      expect(toLoginError(wrapped(dns), 'c')).toMatchObject({ code: 'idp_unreachable', status: 503 });
    }
  });
});
