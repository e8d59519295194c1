/**
 * The management API of role mappings (`sso.setRoleMapping` and friends): validates a mapping, stores it,
 * and reports each change to the audit trail. A mapping applies from the next request of every session
 * (requireActiveUser reads it with the person's SCIM user) and at every login.
 */
import { checkCustomerId } from '../connections.js';
import { parseArgument } from '../errors.js';
import type { Emit } from '../events.js';
import type { Store } from '../store/store.js';
import { roleMappingOf, roleMappingSchema, type RoleMapping, type RoleMappingInput } from './role-mapping.js';

/** A customer's role mapping as the app reads it back. */
export interface RoleMappingView extends RoleMapping {
  customerId: string;
  updatedAt: string;
}

export interface RoleMappingsApi {
  /** Sets the customer's role mapping (replacing any previous one). Throws ScimSsoConfigError('invalid_argument') on a bad mapping. */
  setRoleMapping(customerId: string, mapping: RoleMappingInput): Promise<RoleMappingView>;
  /** The customer's role mapping, or null when it has none (then nobody gets roles from groups). */
  fetchRoleMapping(customerId: string): Promise<RoleMappingView | null>;
  /** Removes the customer's role mapping; false when it had none. */
  deleteRoleMapping(customerId: string): Promise<boolean>;
}

export function roleMappingsApi(store: Store, emit: Emit): RoleMappingsApi {
  const audit = (type: 'role_mapping.updated' | 'role_mapping.deleted', customerId: string) =>
    emit({ type, actor: 'admin', outcome: 'success', customerId, connectionId: null });
  return {
    async setRoleMapping(customerId, input) {
      checkCustomerId(customerId);
      const mapping = parseArgument(roleMappingSchema, input, 'setRoleMapping');
      const updatedAt = new Date().toISOString();
      await store.setRoleMapping(customerId, { json: JSON.stringify(mapping), updatedAt });
      audit('role_mapping.updated', customerId);
      return { customerId, ...mapping, updatedAt };
    },
    async fetchRoleMapping(customerId) {
      checkCustomerId(customerId);
      const stored = await store.getRoleMapping(customerId);
      const mapping = roleMappingOf(stored);
      return stored && mapping ? { customerId, ...mapping, updatedAt: stored.updatedAt } : null;
    },
    async deleteRoleMapping(customerId) {
      checkCustomerId(customerId);
      if (!(await store.getRoleMapping(customerId))) return false;
      await store.setRoleMapping(customerId, null);
      audit('role_mapping.deleted', customerId);
      return true;
    },
  };
}
