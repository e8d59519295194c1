/**
 * Fetches that a customer (through the setup portal) or an app admin can point anywhere: an OIDC issuer's
 * discovery document and the endpoints it names (JWKS, token, userinfo), a SAML IdP's metadata. Two guards
 * against server-side request forgery (docs/setup-portal.md, "Live discovery"):
 * - the host must resolve to public addresses only: no loopback, private, link-local (cloud metadata),
 *   carrier-grade NAT, unique-local, multicast or unspecified address, unless the instance allows them
 *   (`allowPrivateIdpAddresses`, implied by `allowHttpIssuers` for demos and tests);
 * - the answer is read up to a byte cap and within a time limit, redirects are not followed.
 * The address is checked before the fetch resolves it again, so a DNS server that answers differently the
 * second time (rebinding) is not covered: the remaining gap, said in the doc.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Addresses a fetch on behalf of a customer must never reach (RFC 6890 special-purpose ranges). */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2002::', 16],
  ['fec0::', 10],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address (v4 or v6) is a public one. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // An IPv4-mapped IPv6 address is its IPv4 address (a hex-written one is refused rather than decoded).
  // Mapped ranges are not in NOT_PUBLIC: BlockList checks IPv4 addresses against them as if mapped.
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    const v4 = address.slice(7);
    return isIP(v4) === 4 && !NOT_PUBLIC.check(v4, 'ipv4');
  }
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class OutboundFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundFetchError';
  }
}

/** How long a host name may take to resolve (the fetch's own timeout starts after it). */
const LOOKUP_TIMEOUT_MS = 5000;

/** The host's addresses, or none when it cannot be resolved within `ms`. */
async function resolveWithin(host: string, ms: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), ms)));
  try {
    const found = lookup(host, { all: true, verbatim: true }).then(
      (records) => records.map((r) => r.address),
      () => [],
    );
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws OutboundFetchError unless every address the URL's host resolves to is public. */
export async function assertPublicHost(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolveWithin(host, LOOKUP_TIMEOUT_MS);
  if (addresses.length === 0) throw new OutboundFetchError(`the host ${url.hostname} could not be resolved`);
  if (!addresses.every(isPublicAddress)) throw new OutboundFetchError(`the host ${url.hostname} is not a public address`);
}

/** The largest answer an IdP endpoint may send (discovery, JWKS, token, userinfo, metadata). */
export const MAX_IDP_ANSWER_BYTES = 1_000_000;

export interface OutboundOptions {
  /** Largest answer read, in bytes. */
  maxBytes: number;
  /** Whether local and private addresses may be reached (src/options.ts privateIdpAddressesAllowed). */
  allowPrivate: boolean;
}

/**
 * A fetch for outbound requests on behalf of a customer: the host checked (unless `allowPrivate`), no
 * redirects followed, the body read up to `maxBytes` (more is an OutboundFetchError). Its signature is
 * the Fetch API's, so openid-client's `customFetch` can take it.
 */
export function outboundFetch(options: OutboundOptions): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init = {}) => {
    const target = new URL(url);
    if (!options.allowPrivate) await assertPublicHost(target);
    const response = await fetch(target, { ...init, redirect: 'manual' });
    // The body is counted as it arrives even when its length is declared: whether a transport holds a body to
    // its declared length is the dispatcher's business (an app may switch fetch to HTTP/2), not ours to assume.
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > options.maxBytes) throw new OutboundFetchError(`the answer is larger than ${options.maxBytes} bytes`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > options.maxBytes) throw new OutboundFetchError(`the answer is larger than ${options.maxBytes} bytes`);
        chunks.push(chunk);
      }
    }
    return new Response(response.status === 204 || response.status === 304 ? null : Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
