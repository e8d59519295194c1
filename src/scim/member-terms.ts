/**
 * Group filters on members that the members' reverse index answers without reading any member list:
 * `members[value eq "id"]`, `members.value eq "id"` and `members eq "id"` (Microsoft Entra ID asks
 * `id eq "group" and members[value eq "user"]` before it adds or removes a member). `members.value` is
 * case-exact (src/scim/schemas.ts), and the reverse index keys exact values, so it finds exactly the groups
 * such a term matches (Store.findGroupsWithMember).
 *
 * When every mention of `members` in a filter is such a term, groups are read without their members and each
 * is evaluated with `members` standing for the asked values it lists ({@link withAskedMembers}): every term,
 * and any `and`, `or` or `not` around it, then answers as it would against the whole list. Any other mention
 * (`members pr`, `members[type eq "User"]`, `members.display co "x"`) needs the list itself.
 */
import type { FilterNode } from './filter.js';
import type { JsonObject } from './normalize.js';
import type { ResourceContext } from './resources.js';
import { resolveAttribute } from './schemas.js';

/** Whether `attribute` (with its schema, if qualified) names the group's core `members`. */
function namesMembers(ctx: ResourceContext, attribute: string, schema: string | undefined): boolean {
  if (ctx.spec.kind !== 'Group') return false;
  const resolved = resolveAttribute(ctx.spec.type, attribute, schema);
  return resolved.schemaId === ctx.spec.type.schema.id && resolved.def?.name === 'members';
}

/** The member id a term asks for, when the node is one of the terms above; else null. */
export function askedMember(ctx: ResourceContext, node: FilterNode): string | null {
  if (node.kind === 'compare') {
    const { path } = node;
    const onValue = path.subAttribute === undefined || path.subAttribute.toLowerCase() === 'value';
    if (node.op !== 'eq' || typeof node.value !== 'string' || !onValue) return null;
    return namesMembers(ctx, path.attribute, path.schema) ? node.value : null;
  }
  if (node.kind === 'valuePath') {
    const inner = node.filter;
    if (node.path.subAttribute !== undefined || inner.kind !== 'compare' || inner.op !== 'eq' || typeof inner.value !== 'string') return null;
    if (inner.path.schema !== undefined || inner.path.subAttribute !== undefined || inner.path.attribute.toLowerCase() !== 'value') return null;
    return namesMembers(ctx, node.path.attribute, node.path.schema) ? inner.value : null;
  }
  return null;
}

/**
 * The distinct member ids a filter asks for, when every mention of `members` in it is a term above (an
 * empty list when it names no members); null when some other mention needs the member lists.
 */
export function askedMembers(ctx: ResourceContext, filter: FilterNode): string[] | null {
  const asked = new Set<string>();
  const walk = (node: FilterNode): boolean => {
    switch (node.kind) {
      case 'and':
      case 'or':
        return walk(node.left) && walk(node.right);
      case 'not':
        return walk(node.filter);
      default: {
        const member = askedMember(ctx, node);
        if (member !== null) asked.add(member);
        return member !== null || !namesMembers(ctx, node.path.attribute, node.path.schema);
      }
    }
  };
  return walk(filter) ? [...asked] : null;
}

/**
 * A rendered group (read without members) with `members` set to the asked ids it lists: what the filter
 * needs of its members. `holders`: for each asked id, the ids of the groups that list it.
 */
export function withAskedMembers(rendered: JsonObject, groupId: string, asked: string[], holders: ReadonlyMap<string, ReadonlySet<string>>): JsonObject {
  const members = asked.filter((value) => holders.get(value)?.has(groupId) === true).map((value) => ({ value }));
  return { ...rendered, members };
}
