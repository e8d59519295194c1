/**
 * The audit trail: every SCIM write, every refused SCIM request, every login decision, every ended session
 * and every management change becomes one structured event for the app's logger. Events say who (customer
 * and connection), what, when and with what result — never tokens, client secrets or request bodies.
 */

export type AuditEventType =
  // SCIM writes that succeeded
  | 'user.created'
  | 'user.updated'
  | 'user.deactivated'
  | 'user.reactivated'
  | 'user.deleted'
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  // SCIM requests that were refused
  | 'scim.write_rejected'
  | 'scim.unauthorized'
  | 'scim.rate_limited'
  | 'scim.store_unavailable'
  // The login guard
  | 'login.admitted'
  | 'login.refused'
  | 'login.failed'
  | 'session.ended'
  // Management calls
  | 'connection.created'
  | 'connection.deleted'
  | 'connection.token_rotated'
  | 'oidc_client.created'
  | 'oidc_client.updated'
  | 'oidc_client.deleted'
  | 'saml_connection.created'
  | 'saml_connection.updated'
  | 'saml_connection.deleted'
  | 'role_mapping.updated'
  | 'role_mapping.deleted'
  // Setup links (management calls) and the self-serve setup portal (docs/setup-portal.md), actor 'setup'
  | 'setup_link.created'
  | 'setup_link.revoked'
  | 'setup.opened'
  | 'setup.ended'
  | 'setup.refused'
  | 'setup.scim_token_issued'
  | 'setup.oidc_client_saved'
  | 'setup.oidc_client_rejected'
  | 'setup.test_login';

export interface AuditEvent {
  type: AuditEventType;
  /** ISO 8601 time of the event. */
  at: string;
  /**
   * Which part acted: the customer's IdP over SCIM, a login, a session check, the app's admin code, or the
   * customer's IT admin in the setup portal.
   */
  actor: 'scim' | 'login' | 'session' | 'admin' | 'setup';
  outcome: 'success' | 'failure';
  customerId: string | null;
  connectionId: string | null;
  resourceType?: 'User' | 'Group';
  resourceId?: string;
  /** The HTTP method and status of a SCIM request. */
  method?: string;
  status?: number;
  /** A refusal reason, SCIM `scimType`, or error code. */
  reason?: string;
  /** The OIDC subject of a login. */
  subject?: string;
  /** The matching strategy a login used. */
  strategy?: string;
}

export type AuditEventInput = Omit<AuditEvent, 'at'>;

/**
 * Emits events to the app's listener; a throwing listener is reported to onError and never breaks a request.
 * `listening` is false without a listener, so callers can skip work that only an event would use.
 */
export type Emit = ((event: AuditEventInput) => void) & { listening?: boolean };

export function createEmitter(listener: ((event: AuditEvent) => void) | undefined, onError: (error: unknown) => void): Emit {
  if (!listener) return Object.assign(() => {}, { listening: false });
  const emit = (event: AuditEventInput) => {
    try {
      listener({ at: new Date().toISOString(), ...event });
    } catch (error) {
      onError(error);
    }
  };
  return Object.assign(emit, { listening: true });
}
