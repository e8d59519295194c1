/** The ListResponse (RFC 7644 §3.4.2): as an object, or as body pieces around resources already serialised. */
import type { JsonObject } from './normalize.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export function listResponse(total: number, startIndex: number, items: JsonObject[]): JsonObject {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex, itemsPerPage: items.length, Resources: items };
}

/** A resource as response text, or a long group's as body pieces (src/scim/group-members.ts groupPieces). */
export type ResourceText = string | readonly string[];

/** A ListResponse as body pieces (src/scim/response-body.ts joins them), from resources already serialised. */
export function listResponsePieces(total: number, startIndex: number, items: readonly ResourceText[]): string[] {
  const pieces = [`{"schemas":["${LIST_RESPONSE_SCHEMA}"],"totalResults":${total},"startIndex":${startIndex},"itemsPerPage":${items.length},"Resources":[`];
  items.forEach((item, i) => {
    if (i > 0) pieces.push(',');
    if (typeof item === 'string') pieces.push(item);
    else for (const piece of item) pieces.push(piece);
  });
  pieces.push(']}');
  return pieces;
}
