/**
 * Fetches that a customer (through the setup portal) or an app admin can point anywhere: an OIDC issuer's
 * discovery document and the endpoints it names (JWKS, token, userinfo), a SAML IdP's metadata. Two guards
 * against server-side request forgery (docs/setup-portal.md, "Live discovery"):
 * - the host must resolve to public addresses only: no loopback, private, link-local (cloud metadata),
 *   carrier-grade NAT, unique-local, multicast or unspecified address, unless the instance allows them
 *   (`allowPrivateIdpAddresses`, implied by `allowHttpIssuers` for demos and tests). The check is the
 *   connection's own address lookup (`publicOnlyLookup`), so the address checked is the address connected
 *   to: a DNS server that answers a public address first and a private one next (rebinding) gains nothing;
 * - the answer is read up to a byte cap (after decompression) and within a time limit, redirects are not
 *   followed.
 * Requests go through node:http(s) rather than the global fetch, whose connections cannot be given a lookup.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { constants as zlib, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

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
  // IETF protocol assignments (Teredo's 2001::/32, which carries an IPv4 address, among them) and the
  // documentation ranges: none is a public server's address.
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
  ['5f00::', 16],
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
  /**
   * What was refused: the address asked for (an IP literal, or a scheme), what a host name resolved to
   * (`name`: telling it apart from a name that does not resolve would say which names exist on the app's
   * network), or the answer it gave (too large, badly encoded).
   */
  readonly refused: 'address' | 'name' | 'answer';
  constructor(message: string, refused: 'address' | 'name' | 'answer' = 'address') {
    super(message);
    this.name = 'OutboundFetchError';
    this.refused = refused;
  }
}

/** Resolves a host name as the connection would (dns.lookup: the system resolver, /etc/hosts included). */
export type HostResolver = (hostname: string, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: HostResolver = (hostname, callback) => dnsLookup(hostname, { all: true, verbatim: true }, callback);

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect that resolves the host and refuses it unless every address is public: the
 * connection then goes to an address this function checked, never to one a second resolution returned.
 */
export function publicOnlyLookup(resolve: HostResolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const refuse = (why: string) => callback(new OutboundFetchError(`the host ${hostname} ${why}`, 'name'), []);
    resolve(hostname, (error, addresses) => {
      // A name that does not resolve (now) is a network failure, not a refused address: passed on as such.
      if (error) return callback(error, []);
      if (addresses.length === 0 || !addresses.every((a) => isPublicAddress(a.address))) return refuse('is not a public address');
      const family = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
      if (usable.length === 0) return refuse(`has no IPv${family} address`);
      if (options.all) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/** Throws OutboundFetchError unless the URL's host is public: an IP literal is checked here, a name when connecting. */
function assertPublicLiteral(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isPublicAddress(host)) throw new OutboundFetchError(`the host ${url.hostname} is not a public address`);
}

export interface OutboundOptions {
  /** Largest answer read, in bytes. */
  maxBytes: number;
  /** Whether local and private addresses may be reached (src/options.ts privateIdpAddressesAllowed). */
  allowPrivate: boolean;
  /** How host names are resolved when private addresses are refused (tests stand in a rebinding resolver). */
  resolve?: HostResolver;
}

/** Connection pools per policy: a socket opened under one lookup is never reused under another. */
const openAgents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
const publicAgents = {
  http: new HttpAgent({ keepAlive: true, lookup: publicOnlyLookup() }),
  https: new HttpsAgent({ keepAlive: true, lookup: publicOnlyLookup() }),
};

/** The decompressor for one content coding, lenient about an empty or cut-short end (as the Fetch API is). */
function decoderFor(coding: string): Transform | null {
  const zlibEnd = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip(zlibEnd);
    case 'deflate':
      return createInflate(zlibEnd);
    case 'br':
      return createBrotliDecompress({ flush: zlib.BROTLI_OPERATION_FLUSH, finishFlush: zlib.BROTLI_OPERATION_FLUSH });
    default:
      return null;
  }
}

/**
 * The answer's body as sent, or decompressed when the server compressed it with one coding the Fetch API
 * knows (a stacked or unknown coding is refused rather than handed on undecoded). Errors and early ends of
 * the response reach the stream read (pipeline), so an aborted or dropped answer never hangs its reader.
 */
function decoded(response: IncomingMessage, bodyless: boolean): Readable {
  const codings = (response.headers['content-encoding'] ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (bodyless || codings.length === 0) return response;
  const decoder = codings.length === 1 ? decoderFor(codings[0]!) : null;
  if (!decoder) {
    response.destroy();
    throw new OutboundFetchError(`the answer's content encoding "${response.headers['content-encoding']}" is not one this fetch decodes`, 'answer');
  }
  return pipeline(response, decoder, () => {});
}

/** The response's headers as Fetch API Headers (repeated ones appended, as sent). */
function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) headers.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
  // The body handed on is decompressed: its encoding and length no longer describe it.
  headers.delete('content-encoding');
  headers.delete('content-length');
  return headers;
}

/**
 * A fetch for outbound requests on behalf of a customer: the host checked where the connection resolves it
 * (unless `allowPrivate`), no redirects followed, the body read up to `maxBytes` (more is an
 * OutboundFetchError). Its signature is the Fetch API's, so openid-client's `customFetch` can take it.
 */
export function outboundFetch(options: OutboundOptions): (url: string | URL, init?: RequestInit) => Promise<Response> {
  const agents = options.allowPrivate
    ? openAgents
    : options.resolve
      ? { http: new HttpAgent({ lookup: publicOnlyLookup(options.resolve) }), https: new HttpsAgent({ lookup: publicOnlyLookup(options.resolve) }) }
      : publicAgents;
  return async (url, init = {}) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new OutboundFetchError(`only http and https URLs are fetched, not ${target.protocol}`);
    if (!options.allowPrivate) assertPublicLiteral(target);
    // The Fetch API's own reading of the request (a URLSearchParams body, its content type, Headers), with
    // the headers fetch would add itself (some IdPs' firewalls refuse a request without a User-Agent).
    const request = new Request(target, { ...init, redirect: 'manual' });
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {
      accept: '*/*',
      'user-agent': 'scim-sso',
      'accept-encoding': 'gzip, deflate',
      ...Object.fromEntries(request.headers),
    };
    if (body) headers['content-length'] = String(body.length);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = target.protocol === 'https:' ? agents.https : agents.http;
    const { signal } = init;
    // An abort or timeout rejects with the signal's reason (a DOMException TimeoutError), as fetch does.
    const failure = (error: unknown) => (signal?.aborted ? signal.reason : error) as Error;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = send(target, { method: request.method, headers, agent, ...(signal && { signal }) }, resolve);
      outgoing.once('error', (error) => reject(failure(error)));
      outgoing.end(body);
    });
    const status = response.statusCode ?? 0;
    // Statuses whose answer has no body (the Fetch API refuses one for them).
    const bodyless = status === 204 || status === 205 || status === 304 || request.method === 'HEAD';
    const declared = Number(response.headers['content-length'] ?? '0');
    if (!response.headers['content-encoding'] && declared > options.maxBytes) {
      response.destroy();
      throw new OutboundFetchError(`the answer is larger than ${options.maxBytes} bytes`, 'answer');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of decoded(response, bodyless) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > options.maxBytes) throw new OutboundFetchError(`the answer is larger than ${options.maxBytes} bytes`, 'answer');
        chunks.push(chunk);
      }
    } catch (error) {
      response.destroy();
      throw error instanceof OutboundFetchError ? error : failure(error);
    }
    if (status < 200 || status > 599) throw new OutboundFetchError(`the answer's status ${status} is not one a fetch can hold`, 'answer');
    return new Response(bodyless ? null : Buffer.concat(chunks), {
      status,
      statusText: response.statusMessage ?? '',
      headers: headersOf(response),
    });
  };
}
