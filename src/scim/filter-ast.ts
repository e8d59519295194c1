/** The parsed form of a SCIM filter (RFC 7644 §3.4.2.2): what src/scim/filter.ts builds and src/scim/filter-eval.ts evaluates. */

/** An attribute reference: `[schema:]attribute[.subAttribute]`, names as written. */
export interface AttrPath {
  schema?: string;
  attribute: string;
  subAttribute?: string;
}

/** The comparison operators of RFC 7644 §3.4.2.2, table 3 (`pr` is its own node kind). */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A comparison value as parsed: JSON string, number, boolean or null. */
export type FilterValue = string | number | boolean | null;

/**
 * A parsed filter. `compare.raw` holds the text of an unquoted literal (number, true/false/null) so it can
 * still be compared as the string written. A value path with a trailing sub-attribute comparison,
 * `emails[type eq "work"].value eq "a@b"`, is a `valuePath` whose filter is
 * `and(<bracket filter>, compare on {attribute: 'value'})`: one element must satisfy both.
 */
export type FilterNode =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: FilterValue; raw?: string }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; filter: FilterNode }
  | { kind: 'valuePath'; path: AttrPath; filter: FilterNode };
