/**
 * Per-response invariants of the SCIM endpoint (RFC 7644 §3.1, §3.12), shared by the reliability tests.
 */

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12, table 9. */
export const RFC_SCIM_TYPES = new Set([
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
]);

export interface ObservedResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  body: string | undefined;
}

export interface ResponseCheck {
  problems: string[];
  checks: number;
}

export interface ResponseExpectations {
  /** 501 is the RFC's answer for an unsupported endpoint (`/Bulk`, `/Me`); elsewhere any 5xx is a failure. */
  allowNotImplemented: boolean;
}

/**
 * Checks one response: never 500 (nor any other 5xx on a healthy store, 501 aside where allowed); every error
 * is an RFC 7644 §3.12 body (`schemas` = [Error URN], `status` the HTTP status as a string, `detail` a string,
 * `scimType` one of the RFC values if present, no other members) served as `application/scim+json`; every
 * other body is JSON served as `application/scim+json`; 204/304 carry no body; 401 carries
 * `WWW-Authenticate`, 405 carries `Allow`, 429 and 503 carry an integer `Retry-After`.
 */
export function checkScimResponse(response: ObservedResponse, expectations: ResponseExpectations): ResponseCheck {
  const problems: string[] = [];
  let checks = 0;
  const expect = (ok: boolean, problem: string) => {
    checks++;
    if (!ok) problems.push(problem);
  };
  const { status, headers, body } = response;
  expect(Number.isInteger(status) && status >= 100 && status <= 599, `status ${status} is not an HTTP status`);
  expect(status !== 500, 'status 500');
  // (500 itself is reported once, above.)
  expect(status <= 500 || (status === 501 && expectations.allowNotImplemented), `status ${status} on a healthy store`);
  const contentType = headers['content-type'] ?? '';
  const hasBody = body !== undefined && body !== '';
  if (status === 204 || status === 304) {
    expect(!hasBody, `${status} with a body`);
    return { problems, checks };
  }
  expect(hasBody, `${status} without a body`);
  expect(/^application\/scim\+json(\s*;|$)/i.test(contentType), `${status} with Content-Type ${JSON.stringify(contentType)}`);
  let parsed: unknown;
  try {
    parsed = hasBody ? JSON.parse(body) : undefined;
    checks++;
  } catch {
    expect(false, `${status} body is not JSON: ${JSON.stringify(body?.slice(0, 80))}`);
    return { problems, checks };
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  expect(isObject, `${status} body is not a JSON object`);
  if (!isObject || status < 400) return { problems, checks };

  const error = parsed as Record<string, unknown>;
  expect(
    Array.isArray(error.schemas) && error.schemas.length === 1 && error.schemas[0] === ERROR_SCHEMA,
    `${status} error schemas is ${JSON.stringify(error.schemas)}`,
  );
  expect(error.status === String(status), `${status} error body has status ${JSON.stringify(error.status)}`);
  expect(typeof error.detail === 'string', `${status} error body has no string detail`);
  expect(
    error.scimType === undefined || (typeof error.scimType === 'string' && RFC_SCIM_TYPES.has(error.scimType)),
    `${status} error body has scimType ${JSON.stringify(error.scimType)}`,
  );
  const extra = Object.keys(error).filter((k) => !['schemas', 'status', 'scimType', 'detail'].includes(k));
  expect(extra.length === 0, `${status} error body has extra members ${extra.join(', ')}`);
  if (status === 401) expect(headers['www-authenticate'] !== undefined, '401 without WWW-Authenticate');
  if (status === 405) expect(headers.allow !== undefined, '405 without Allow');
  if (status === 429 || status === 503) expect(/^\d+$/.test(headers['retry-after'] ?? ''), `${status} without an integer Retry-After`);
  return { problems, checks };
}

/** Lower-cases header names (the neutral handler answers with canonical casing). */
export function lowerHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
