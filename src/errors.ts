/** The error kinds of scim-sso: SCIM protocol errors, setup misuse, and login refusals. */
import type { ZodType } from 'zod';

/** `scimType` values of RFC 7644 §3.12, table 9. */
export type ScimType =
  'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The RFC 7644 §3.12 error body. `status` is a string, as the RFC's examples show. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/** A client mistake (or an unavailable dependency) that the handler answers with a SCIM error body. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  /** Extra response headers, e.g. `Retry-After` on 429 and 503. */
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), detail: clippedDetail(this.message) };
    if (this.scimType) body.scimType = this.scimType;
    return body;
  }
}

/** Longest `detail` an error body carries: a detail that quotes a client's id or path never echoes 1 MB back. */
export const MAX_DETAIL_LENGTH = 1_000;

const clippedDetail = (detail: string): string =>
  detail.length <= MAX_DETAIL_LENGTH ? detail : `${detail.slice(0, MAX_DETAIL_LENGTH - 25)}… (${detail.length} characters)`;

/** Shorthands for the errors the routes raise most. */
export const scimErrors = {
  badRequest: (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType),
  notFound: (detail: string) => new ScimError(404, detail),
  conflict: (detail: string) => new ScimError(409, detail, 'uniqueness'),
};

/** Codes of {@link ScimSsoConfigError}: misuse of the library at setup time, never a client's fault. */
export type ConfigErrorCode =
  | 'invalid_options'
  | 'connection_exists'
  | 'connection_not_found'
  | 'oidc_client_exists'
  | 'oidc_client_not_found'
  | 'saml_connection_exists'
  | 'saml_connection_not_found'
  /** The customer already has an SSO connection of the other protocol (OIDC or SAML). */
  | 'sso_connection_exists'
  | 'invalid_argument'
  /** A bring-your-own SCIM token is already another connection's token. */
  | 'token_in_use'
  /** A token rotation lost to a concurrent rotation of the same connection and was not applied. */
  | 'rotation_conflict';

/** Thrown synchronously or by a management call when the application misuses the library. */
export class ScimSsoConfigError extends Error {
  readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string) {
    super(message);
    this.name = 'ScimSsoConfigError';
    this.code = code;
  }
}

/** Parses a management call's argument with its zod schema; throws ScimSsoConfigError('invalid_argument') saying what is wrong. */
export function parseArgument<T>(schema: ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  throw new ScimSsoConfigError('invalid_argument', `${what}: ${details}`);
}

/** A result of a parser: the value, or the SCIM error explaining why the input is bad. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ScimError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ScimError): { ok: false; error: ScimError } => ({ ok: false, error });

/** The value of a Result, or its SCIM error thrown (the handler turns it into the answer). */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** Why the guard refused a login (docs/design-decisions.md §Guard outcomes). */
export type ScimUserNotActiveReason = 'deactivated' | 'deleted' | 'not_provisioned' | 'ambiguous';

/**
 * The login was refused because the person's SCIM user is not active: deactivated, deleted, never
 * provisioned, or not identifiable (several SCIM users match). Rendered by `sso.errorHandler()` as 403 JSON
 * `{ error: 'ScimUserNotActive', reason }` or a redirect with `?error=ScimUserNotActive&reason=…`.
 */
export class ScimUserNotActive extends Error {
  readonly code = 'ScimUserNotActive' as const;
  readonly status = 403 as const;
  readonly customerId: string;
  readonly reason: ScimUserNotActiveReason;
  /** The matching strategy that was applied. */
  readonly strategy: string;

  constructor(customerId: string, reason: ScimUserNotActiveReason, strategy: string) {
    super(`login refused for customer "${customerId}": SCIM user ${reason.replace('_', ' ')} (strategy ${strategy})`);
    this.name = 'ScimUserNotActive';
    this.customerId = customerId;
    this.reason = reason;
    this.strategy = strategy;
  }
}

/** Codes of {@link SsoLoginError}. */
export type SsoLoginErrorCode =
  | 'unknown_customer'
  | 'idp_error'
  | 'access_denied'
  | 'invalid_response'
  | 'token_exchange_failed'
  | 'missing_claim'
  /** The login's claims name another tenant than the customer's OIDC client requires (src/guard/tenant-claims.ts). */
  | 'outside_tenant'
  | 'store_unavailable'
  | 'idp_unreachable'
  /** The customer's stored matching strategy is unknown to this version, or a stored OIDC client has settings now refused (src/guard/tenant-claims.ts storedClientProblem). */
  | 'unsupported_strategy'
  /** Not raised since SAML login starts stopped being rate-limited (docs/saml.md); kept so code naming it compiles. */
  | 'too_many_logins';

/**
 * A login that could not complete for a reason other than the SCIM guard: the IdP said no, the response
 * failed validation, the person is outside the customer's tenant, or a dependency is down. `status` is 400, 401,
 * 403, 404, 413, 429 or 503 — never a 500.
 */
export class SsoLoginError extends Error {
  readonly code: SsoLoginErrorCode;
  readonly status: number;
  readonly customerId: string | null;

  constructor(code: SsoLoginErrorCode, status: number, message: string, customerId: string | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SsoLoginError';
    this.code = code;
    this.status = status;
    this.customerId = customerId;
  }
}
