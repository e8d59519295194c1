/**
 * A group member's `$ref` in a PATCH value filter (`members[$ref eq "https://…/Users/<id>"]`). The store
 * keeps a member's `value` and `type` only; its `$ref` is derived when the group is rendered (memberViews in
 * src/scim/render.ts: a member whose `type` is `Group` points at /Groups, any other at /Users). A list filter
 * runs on the rendered group and finds it, but a PATCH evaluates its filter on the stored members, where a
 * `$ref` term matched nothing: a `remove` by `$ref` answered 204 and removed nobody (a conformance audit,
 * 2026-12-07). So the PATCH filter's `$ref` terms are rewritten into the `value` and `type` they are derived
 * from, whatever the URL's scheme and host (the last two segments name the member).
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import type { FilterNode } from './filter-ast.js';

/** `…/Users/<id>` or `…/Groups/<id>`, with an optional trailing slash. */
const MEMBER_REF = /\/(Users|Groups)\/([^/?#]+)\/?$/;

/**
 * The filter with each `$ref` term on a member rewritten (see the file's comment), other terms as they are;
 * a `$ref` compared otherwise than by `eq`, `ne` or `pr` is a 400 `invalidFilter`.
 */
export function memberRefsAsValues(filter: FilterNode): Result<FilterNode> {
  let refused = false;
  const rewrite = (node: FilterNode): FilterNode => {
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, left: rewrite(node.left), right: rewrite(node.right) };
      case 'not':
        return { kind: 'not', filter: rewrite(node.filter) };
      case 'present':
        // Every member has a `$ref`, derived from its `value`.
        return isRef(node.path.attribute) ? { kind: 'present', path: { attribute: 'value' } } : node;
      case 'compare':
        if (!isRef(node.path.attribute)) return node;
        if (node.op === 'eq') return memberOf(node.value);
        if (node.op === 'ne') return { kind: 'not', filter: memberOf(node.value) };
        refused = true;
        return node;
      case 'valuePath':
        return node;
    }
  };
  const rewritten = rewrite(filter);
  if (refused)
    return fail(scimErrors.badRequest('invalidFilter', 'a PATCH path compares a member\'s $ref with "eq" or "ne" only; filter on its value instead'));
  return ok(rewritten);
}

const isRef = (attribute: string): boolean => attribute.toLowerCase() === '$ref';

/** The members a `$ref` value points at: `value eq <id>`, and a `type` of Group or any other, as memberViews derives it. */
function memberOf(ref: unknown): FilterNode {
  const match = typeof ref === 'string' ? MEMBER_REF.exec(ref) : null;
  // Not a member's URL: no member has it (a value no member has is compared, never an error).
  if (!match) return { kind: 'compare', path: { attribute: 'value' }, op: 'eq', value: '\u0000' };
  const value: FilterNode = { kind: 'compare', path: { attribute: 'value' }, op: 'eq', value: decodedSegment(match[2]!) };
  const group: FilterNode = { kind: 'compare', path: { attribute: 'type' }, op: 'eq', value: 'Group' };
  return { kind: 'and', left: value, right: match[1] === 'Groups' ? group : { kind: 'not', filter: group } };
}

/** A URL path segment decoded (urlSegment's inverse), or as it is when it is not valid percent-encoding. */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
