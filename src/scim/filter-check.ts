/**
 * Checks a parsed filter against the resource type's schema before it runs: a comparison of a dateTime
 * attribute (`meta.lastModified gt "…"`) needs a dateTime value. RFC 7644 §3.4.2.2 compares dateTimes in
 * chronological order, so a value that is not one cannot be ordered; it is a 400 `invalidFilter` rather
 * than a page that silently matches nothing (a delta sync would read that as "no changes"). Booleans and
 * binary values have no order at all (the same section): `gt`/`ge`/`lt`/`le` on them is refused the same way.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import type { AttrPath, FilterNode } from './filter-ast.js';
import { instant } from './filter-eval.js';
import { bareSchemaUrnProblem, dottedSchemaUrnProblem, findAttribute, resolveAttribute, type AttributeDef, type ResourceTypeDef } from './schemas.js';

/** The definition a path names: from the resource type at the top level, from the element's inside `[...]`. */
function defOf(type: ResourceTypeDef, element: AttributeDef | undefined, path: AttrPath): AttributeDef | undefined {
  const def = element ? findAttribute(element.subAttributes, path.attribute) : resolveAttribute(type, path.attribute, path.schema).def;
  return path.subAttribute === undefined ? def : findAttribute(def?.subAttributes, path.subAttribute);
}

/**
 * The refusal of a path written `<schema URN>.<attribute>` (read by the grammar as the sub-attribute of an
 * attribute named after the URN's last segment, under a shorter URN) or as a schema URN alone, or null: it
 * would match nothing, and an IdP looking a user up so would create a duplicate (dottedSchemaUrnProblem,
 * bareSchemaUrnProblem, src/scim/schemas.ts).
 */
function dottedPath(type: ResourceTypeDef, path: AttrPath): string | null {
  if (path.schema === undefined) return null;
  if (path.subAttribute === undefined) return bareSchemaUrnProblem(type, `${path.schema}:${path.attribute}`);
  return dottedSchemaUrnProblem(type, `${path.schema}:${path.attribute}.${path.subAttribute}`);
}

/** The ordering operators: RFC 7644 §3.4.2.2 makes them on a boolean or binary attribute a 400 `invalidFilter`. */
const ORDERING: ReadonlySet<string> = new Set(['gt', 'ge', 'lt', 'le']);

const pathName = (path: AttrPath) => [path.attribute, path.subAttribute].filter(Boolean).join('.');

/**
 * Ok, or the first comparison that cannot be evaluated: a dateTime attribute with a value that is not a
 * dateTime, or an ordering of a boolean or binary value. The tree's depth is bounded by the parser.
 */
export function checkFilterValues(type: ResourceTypeDef, node: FilterNode, element?: AttributeDef): Result<void> {
  if ((node.kind === 'compare' || node.kind === 'present' || node.kind === 'valuePath') && !element) {
    const dotted = dottedPath(type, node.path);
    if (dotted) return fail(scimErrors.badRequest('invalidFilter', dotted));
  }
  switch (node.kind) {
    case 'and':
    case 'or': {
      const left = checkFilterValues(type, node.left, element);
      return left.ok ? checkFilterValues(type, node.right, element) : left;
    }
    case 'not':
      return checkFilterValues(type, node.filter, element);
    case 'valuePath':
      return checkFilterValues(type, node.filter, defOf(type, element, node.path));
    case 'present':
      return ok(undefined);
    case 'compare': {
      if (node.op === 'co' || node.op === 'sw' || node.op === 'ew' || node.value === null) return ok(undefined);
      const def = defOf(type, element, node.path);
      if (def?.type !== 'dateTime') {
        if (!ORDERING.has(node.op) || (typeof node.value !== 'boolean' && def?.type !== 'boolean' && def?.type !== 'binary')) return ok(undefined);
        const what =
          def?.type === 'boolean' || def?.type === 'binary' ? `${pathName(node.path)}, a ${def.type} attribute` : `the boolean ${String(node.value)}`;
        return fail(scimErrors.badRequest('invalidFilter', `${node.op} cannot order ${what}; use eq or ne`));
      }
      if (typeof node.value === 'string' && instant(node.value) !== undefined) return ok(undefined);
      const name = pathName(node.path);
      const shown = String(node.raw ?? JSON.stringify(node.value)).slice(0, 100);
      return fail(scimErrors.badRequest('invalidFilter', `${name} is a dateTime; ${shown} is not one (e.g. "2026-01-31T12:00:00Z")`));
    }
  }
}
