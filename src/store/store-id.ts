/**
 * The one rule for the ids the stores key data by (connection, customer, resource ids, token hashes), in a
 * module of its own so that the store contract and the stores' helpers (setup grants) share it without
 * importing each other.
 */

/** The longest connection, customer or resource id (and token hash, attribute name) the stores accept. */
export const MAX_STORE_ID_LENGTH = 200;

/**
 * True when `value` can be a connection id, customer id, resource id or token hash: 1 to 200 characters,
 * no `{` or `}` (they would break Redis Cluster hash tags), no whitespace (the Redis store separates ids by
 * spaces) and no control characters.
 */
export function isValidStoreId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_STORE_ID_LENGTH && !/[{}\s\p{Cc}]/u.test(value);
}
