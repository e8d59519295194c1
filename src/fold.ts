/**
 * Case folding for everything compared case-insensitively: index keys, uniqueness and login matching.
 * Trim, Unicode NFC, then lower-case — in TypeScript, never in Lua (whose `lower` is ASCII-only).
 */
export function fold(value: string): string {
  return value.trim().normalize('NFC').toLowerCase();
}

/** The part of an address before its last `@`, or the whole value when it has none. */
export function localPart(value: string): string {
  const at = value.lastIndexOf('@');
  return at === -1 ? value : value.slice(0, at);
}
