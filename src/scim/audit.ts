/**
 * The audit events of SCIM traffic (see src/events.ts): one per successful write — with deactivation and
 * reactivation told apart — and one per refused write, unreachable store, or unauthenticated request.
 */
import type { ScimError } from '../errors.js';
import type { AuditEventType, Emit } from '../events.js';
import type { ResourceKind, StoredConnection } from '../store/store.js';
import type { ScimRequest } from './http.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A successful write; `active`: a written user's `active` before and after it (PUT, PATCH). */
export interface Written {
  kind: ResourceKind;
  id: string;
  method: string;
  status: number;
  active?: { before: boolean; after: boolean } | undefined;
}

export function auditWrite(emit: Emit, connection: StoredConnection, write: Written): void {
  if (emit.listening === false) return;
  const noun = write.kind === 'User' ? 'user' : 'group';
  let type = `${noun}.${write.method === 'POST' ? 'created' : write.method === 'DELETE' ? 'deleted' : 'updated'}` as AuditEventType;
  if (write.active) {
    const { before, after } = write.active;
    if (before && !after) type = 'user.deactivated';
    if (!before && after) type = 'user.reactivated';
  }
  emit({
    type,
    actor: 'scim',
    outcome: 'success',
    customerId: connection.customerId,
    connectionId: connection.connectionId,
    resourceType: write.kind,
    resourceId: write.id,
    method: write.method,
    status: write.status,
  });
}

/** The resource a request path names, for events of failed requests. */
function targetOf(path: string): { resourceType?: ResourceKind; resourceId?: string } {
  const [endpoint = '', id] = path.split('/').filter((s) => s !== '');
  const resourceType = endpoint.toLowerCase() === 'users' ? 'User' : endpoint.toLowerCase() === 'groups' ? 'Group' : undefined;
  if (!resourceType) return {};
  return id ? { resourceType, resourceId: id.slice(0, 200) } : { resourceType };
}

/** A request that failed: an unreachable store always, a refused write when the connection is known. */
export function auditFailure(emit: Emit, request: ScimRequest, connection: StoredConnection | null, error: ScimError): void {
  const event = {
    actor: 'scim' as const,
    outcome: 'failure' as const,
    customerId: connection?.customerId ?? null,
    connectionId: connection?.connectionId ?? null,
    method: request.method,
    status: error.status,
    ...targetOf(request.path),
    ...(error.scimType ? { reason: error.scimType } : {}),
  };
  if (error.status === 503) emit({ type: 'scim.store_unavailable', ...event });
  else if (connection && WRITE_METHODS.has(request.method.toUpperCase())) emit({ type: 'scim.write_rejected', ...event });
}
