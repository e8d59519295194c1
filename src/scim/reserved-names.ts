/**
 * The names no attribute may have: those of `Object.prototype`'s members and `prototype`, compared
 * case-insensitively (attribute names are: RFC 7643 §2.1). They match nothing when read and are refused when
 * written, so no stored resource shadows them (src/scim/attribute-access.ts). A file of its own so that
 * normalisation, which attribute access depends on, can use it too.
 */
const RESERVED: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype'].map((n) => n.toLowerCase()));

/** Whether a name is (case-insensitively) that of an `Object.prototype` member (`constructor`, `toString`, `__proto__`, …) or `prototype`. */
export const isReservedName = (name: string): boolean => RESERVED.has(name.toLowerCase());
