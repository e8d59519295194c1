/**
 * Resources as response text: one resource with its ETag and projection, or a page of them rendered in
 * slices with yields between (src/event-loop.ts), a long group's members as body pieces.
 */
import { yieldToEventLoop } from '../event-loop.js';
import type { StoredResource } from '../store/store.js';
import { groupPieces, RENDER_PAGE, renderMemberItems, type MemberItems } from './group-members.js';
import { rawJsonResponse, type ScimRequest, type ScimResponse } from './http.js';
import type { ListedResource } from './list.js';
import type { ResourceText } from './list-response.js';
import type { JsonObject } from './normalize.js';
import { applyProjection, isIdentity, type Projection } from './projection.js';
import { etagOf, locationOf, renderResource, renderResourceJson } from './render.js';
import type { ResourceContext } from './resources.js';
import { joinBody } from './response-body.js';

/** Characters of resources rendered between two yields while a page is rendered (about 256 KB of text). */
const RENDER_SLICE_CHARS = 256 * 1024;
/** About the characters of one derived group a user's rendering builds (`value`, `$ref`, `display`, `type`). */
const GROUP_VIEW_CHARS = 128;

/** A resource as response text: spliced from the stored JSON when no projection asks to reshape it. */
function resourceJson(ctx: ResourceContext, stored: StoredResource, rendered: JsonObject | null, projection: Projection, baseUrl: string): string {
  if (isIdentity(projection)) return renderResourceJson(ctx.spec, stored, baseUrl);
  return JSON.stringify(applyProjection(rendered ?? renderResource(ctx.spec, stored, baseUrl), projection));
}

/**
 * A page's resources as response texts (a long group's as body pieces), with a yield after each
 * RENDER_SLICE_CHARS of text rendered and a long member list rendered in slices: a page of 100 users with
 * 1,000 roles each, or one group of 100,000 members, never holds the event loop for the whole page.
 */
export async function renderPage(
  ctx: ResourceContext,
  resources: ListedResource[],
  projection: Projection,
  baseUrl: string,
  into: ResourceText[],
): Promise<void> {
  let sinceYield = 0;
  for (const { stored, rendered } of resources) {
    if (stored.members !== undefined && stored.members.length > RENDER_PAGE) {
      into.push(groupPieces(ctx.spec, stored, await renderMemberItems(stored.members, baseUrl, projection), baseUrl, projection));
      await yieldToEventLoop();
      sinceYield = 0;
      continue;
    }
    const text = resourceJson(ctx, stored, rendered, projection, baseUrl);
    into.push(text);
    // The work is what was read and built, not only what is sent: a projection can shrink a large user
    // with 1,000 groups to its userName.
    sinceYield += text.length + stored.json.length + GROUP_VIEW_CHARS * (stored.groups?.length ?? 0);
    if (sinceYield > RENDER_SLICE_CHARS) {
      await yieldToEventLoop();
      sinceYield = 0;
    }
  }
}

/** One resource in a response, with its ETag and projection; `members`: a group's member items, rendered apart. */
export async function resourceResponse(
  ctx: ResourceContext,
  request: ScimRequest,
  status: number,
  stored: StoredResource,
  projection: Projection,
  members?: MemberItems,
): Promise<ScimResponse> {
  // Rendering a long member list is a phase of its own, in slices (src/event-loop.ts).
  if (members === undefined && stored.members !== undefined && stored.members.length > RENDER_PAGE) {
    members = await renderMemberItems(stored.members, request.baseUrl, projection);
  }
  const headers: Record<string, string> = { ETag: etagOf(stored.version) };
  if (status === 201) headers.Location = locationOf(ctx.spec, request.baseUrl, stored.id);
  const { baseUrl } = request;
  const body =
    members === undefined ? resourceJson(ctx, stored, null, projection, baseUrl) : await joinBody(groupPieces(ctx.spec, stored, members, baseUrl, projection));
  return rawJsonResponse(status, body, headers);
}
