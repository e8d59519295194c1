/**
 * The ACS request body: an HTML form post (`application/x-www-form-urlencoded`) with `SAMLResponse` and
 * maybe `RelayState`. Read with a size bound (a body parser the app mounted may have read it already), and
 * answered as a null-prototype object of strings. Framework-neutral: the adapters hand in the Node stream.
 */
import type { IncomingMessage } from 'node:http';
import { SsoLoginError } from '../errors.js';
import { parsedBodyOf } from '../parsed-body.js';
import { readBody } from '../scim/body.js';
import { MAX_SAML_RESPONSE_CHARS } from './saml-budget.js';

/** The largest ACS body read: the SAMLResponse bound, percent-encoding and a RelayState. */
export const MAX_SAML_FORM_BYTES = MAX_SAML_RESPONSE_CHARS * 3 + 8192;

/**
 * How long the ACS waits for its body (30 s; an IdP's auto-submitted form of at most a few hundred KB arrives
 * in well under a second). The ACS is the one route that reads a body for anyone, with no token or session:
 * without a deadline, clients that stop a byte short hold their buffers until Node's requestTimeout (300 s).
 */
export const SAML_FORM_READ_MS = 30_000;

const FORM_FIELDS = ['SAMLResponse', 'RelayState'] as const;

function pick(read: (name: string) => unknown): Record<string, string> {
  const form = Object.create(null) as Record<string, string>;
  for (const name of FORM_FIELDS) {
    const value = read(name);
    if (typeof value === 'string') form[name] = value;
  }
  return form;
}

export async function readSamlForm(
  req: IncomingMessage,
  given: unknown,
  customerId: string | null,
  deadlineMs = SAML_FORM_READ_MS,
): Promise<Record<string, string>> {
  const parsedBody = parsedBodyOf(req, given);
  if (parsedBody && typeof parsedBody === 'object' && !Buffer.isBuffer(parsedBody)) {
    return pick((name) => (Object.hasOwn(parsedBody, name) ? (parsedBody as Record<string, unknown>)[name] : undefined));
  }
  if (req.readableEnded) return Object.create(null) as Record<string, string>;
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new SsoLoginError('invalid_response', 400, 'the SAML response must be posted as application/x-www-form-urlencoded', customerId);
  }
  const body = await readBody(req, MAX_SAML_FORM_BYTES, req.headers['content-length'], deadlineMs);
  if (!Buffer.isBuffer(body)) {
    const message = body.status === 408 ? body.message : `the SAML response body exceeds ${MAX_SAML_FORM_BYTES} bytes`;
    throw new SsoLoginError('invalid_response', body.status === 408 ? 408 : 413, message, customerId);
  }
  const params = new URLSearchParams(body.toString('latin1'));
  return pick((name) => params.get(name) ?? undefined);
}
