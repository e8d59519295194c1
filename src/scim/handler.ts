/**
 * The SCIM service, framework-neutral: {method, path, query, headers, body} → {status, headers, body}.
 * The adapters (src/express/scim.ts, src/koa/scim.ts, over src/scim/mount.ts) only translate. Every error
 * leaves as an RFC 7644 §3.12 body; an unexpected failure is logged through `onError` and answered with a
 * 500 that holds no internals, and an unreachable store with a 503 and `Retry-After`.
 */
import { ScimError, scimErrors, unwrap } from '../errors.js';
import type { Store, StoredConnection, StoreQuota } from '../store/store.js';
import { authenticate, type TokenCache } from './auth.js';
import { createDiscovery } from './discovery.js';
import type { FilterLimits } from './filter.js';
import { errorResponse, jsonResponse, noContent, rawJsonResponse, type ScimRequest, type ScimResponse } from './http.js';
import { listResources, pageBytesOf } from './list.js';
import { paramReader, parseListQuery, type PagingLimits } from './list-query.js';
import { MAX_PAGE_BYTES, pageTooLarge } from './list-refusals.js';
import { listResponse, listResponsePieces, type ResourceText } from './list-response.js';
import { etagListMatches, etagOf } from './render.js';
import type { ResourceSpec } from './resource-spec.js';
import { BodyReads } from './body-reads.js';
import { HeavyTicket, HeavyWork, MEMBER_READ_BYTES } from './heavy-work.js';
import { RecentUsers } from './recent-users.js';
import { createResource, deleteResource, patchResource, preconditionFailedError, readResource, replaceResource, type ResourceContext } from './resources.js';
import { groupSpec } from './groups.js';
import { wantsMembers } from './group-members.js';
import { readGroup } from './group-read.js';
import { projectionOf, requestBody, requestJson, searchQuery } from './request-input.js';
import { renderPage, resourceResponse } from './resource-response.js';
import { joinBody } from './response-body.js';
import { answerIdpLookup } from './idp-lookup.js';
import { userSpec } from './users.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import type { Emit } from '../events.js';
import { auditFailure, auditWrite } from './audit.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';

export interface ScimHandlerOptions {
  store: Store;
  /** Per-connection rate limit, or null for none. */
  rateLimit: RateLimit | null;
  emit: Emit;
  paging: PagingLimits;
  filterLimits: FilterLimits;
  maxPatchOperations: number;
  /** Per-connection quotas, enforced by the store (see docs/storage-limits.md). */
  quota: StoreQuota;
  /** Whether writes append durable provisioning events to the store (docs/events.md). */
  events: boolean;
  maxBodyBytes: number;
  /** Seconds clients are told to wait when the store is unreachable. */
  retryAfterSeconds: number;
  onError: (error: unknown) => void;
  /** Connections by current token, trusted for a short time (src/scim/auth.ts); absent: every request asks the store. */
  tokenCache?: TokenCache;
  /** Told of every authenticated request once answered (the activity log, src/activity/recorder.ts); never awaited. */
  onAnswered?: (answered: AnsweredRequest) => void;
}

/** An authenticated SCIM request as answered: what the activity log keeps of it. */
export interface AnsweredRequest {
  connection: StoredConnection;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  /** When it arrived (ms since the epoch) and how long the answer took (ms). */
  startedAt: number;
  latencyMs: number;
}

export type ScimHandler = (request: ScimRequest) => Promise<ScimResponse>;

const RESOURCE_ENDPOINTS = new Map<string, ResourceSpec>([
  ['users', userSpec],
  ['groups', groupSpec],
]);

/** The discovery endpoints (lower-cased), which describe the server rather than list resources (RFC 7644 §4). */
const DISCOVERY_ENDPOINTS: ReadonlySet<string> = new Set(['serviceproviderconfig', 'resourcetypes', 'schemas']);

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Whether a request may write (a search is a read sent as POST, RFC 7644 §3.4.3). */
const isWrite = (request: ScimRequest): boolean => WRITE_METHODS.has(request.method.toUpperCase()) && !/\/\.search\/?$/i.test(request.path);

const notFound = (path: string) => scimErrors.notFound(`no SCIM endpoint at ${path}`);

function methodNotAllowed(allowed: string): ScimError {
  return new ScimError(405, `method not allowed here; allowed: ${allowed}`, undefined, { Allow: allowed });
}

function notImplemented(what: string): ScimError {
  return new ScimError(501, `${what} is not supported by this server (see /ServiceProviderConfig)`);
}

/** A discovery endpoint's list (RFC 7644 §4), or the item `id` names (case-insensitively). */
function discoveryList(items: Record<string, unknown>[], id: string | undefined, kind: string): ScimResponse {
  if (id === undefined) {
    return jsonResponse(200, listResponse(items.length, 1, items as never));
  }
  const found = items.find((item) => String(item.id).toLowerCase() === id.toLowerCase());
  if (!found) throw scimErrors.notFound(`${kind} ${id} not found`);
  return jsonResponse(200, found);
}

export function createScimHandler(options: ScimHandlerOptions): ScimHandler {
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : null;
  const { emit } = options;
  const recentUsers = new RecentUsers();
  const bodyReads = new BodyReads();
  const heavyWork = new HeavyWork();

  const discovery = createDiscovery({
    maxCount: options.paging.maxCount,
    maxPatchOperations: options.maxPatchOperations,
    maxBodyBytes: options.maxBodyBytes,
  });

  async function route(request: ScimRequest, connection: StoredConnection, heavy: HeavyTicket): Promise<ScimResponse> {
    if (request.queryProblem) throw scimErrors.badRequest('invalidValue', request.queryProblem);
    const segments = request.path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const [first = '', second, third] = segments;
    const endpoint = first.toLowerCase();
    const method = request.method.toUpperCase();
    if (third !== undefined) throw notFound(request.path);

    const contextFor = (spec: ResourceSpec): ResourceContext => ({
      store: options.store,
      connectionId: connection.connectionId,
      spec,
      maxPatchOperations: options.maxPatchOperations,
      quota: options.quota,
      events: options.events,
      recentUsers,
      heavy,
    });
    const spec = RESOURCE_ENDPOINTS.get(endpoint);
    if (spec) {
      const ctx = contextFor(spec);
      if (second === undefined) return collection(ctx, request, method, connection);
      if (second === '.search') {
        if (method !== 'POST') throw methodNotAllowed('POST');
        return search(ctx, request);
      }
      return single(ctx, request, method, second, connection);
    }
    if (endpoint === '.search' && second === undefined) {
      if (method !== 'POST') throw methodNotAllowed('POST');
      return rootSearch([contextFor(userSpec), contextFor(groupSpec)], request);
    }
    if (method !== 'GET') {
      if (DISCOVERY_ENDPOINTS.has(endpoint)) throw methodNotAllowed('GET, HEAD');
      if (endpoint === 'bulk') throw notImplemented('Bulk');
    }
    if (DISCOVERY_ENDPOINTS.has(endpoint) && request.query.has('filter')) {
      // RFC 7644 §4: a filter here SHOULD be a 403, so that no client assumes the answer matched it.
      throw new ScimError(403, `${request.path} takes no filter: it always answers every item (RFC 7644 §4)`);
    }
    switch (endpoint) {
      case 'serviceproviderconfig':
        if (second !== undefined) throw notFound(request.path);
        return jsonResponse(200, discovery.serviceProviderConfig(request.baseUrl));
      case 'resourcetypes':
        return discoveryList(discovery.resourceTypes(request.baseUrl), second, 'ResourceType');
      case 'schemas':
        return discoveryList(discovery.schemas(request.baseUrl), second, 'Schema');
      case 'me':
        throw notImplemented('/Me');
      case 'bulk':
        throw notImplemented('Bulk');
      default:
        throw notFound(request.path);
    }
  }

  async function list(ctx: ResourceContext, request: ScimRequest, query: URLSearchParams): Promise<ScimResponse> {
    const short = await answerIdpLookup(ctx, query, options.paging, options.filterLimits, request.baseUrl);
    if (short.body !== null) return rawJsonResponse(200, short.body);
    const parsed = unwrap(parseListQuery(ctx, query, options.paging, options.filterLimits));
    const result = await listResources(ctx, parsed, request.baseUrl, short.read);
    // Every way of answering (page, sort index, lookups, scan) is held to the same page size.
    if (pageBytesOf(result.resources.map((r) => r.stored)) > MAX_PAGE_BYTES) throw pageTooLarge(ctx, result.resources.length, parsed.startIndex - 1);
    const items: ResourceText[] = [];
    await renderPage(ctx, result.resources, parsed.projection, request.baseUrl, items);
    return rawJsonResponse(200, await joinBody(listResponsePieces(result.total, result.startIndex, items)));
  }

  /** POST /Users/.search (RFC 7644 §3.4.3): the query in a JSON body. */
  async function search(ctx: ResourceContext, request: ScimRequest): Promise<ScimResponse> {
    return list(ctx, request, await searchQuery(request));
  }

  /**
   * POST /.search (RFC 7644 §3.4.3) across Users and Groups: one result list, Users first then Groups, each
   * in its own order (creation, or `sortBy` within the type); `startIndex`/`count` page over the whole list
   * and `totalResults` counts both. A filter on an attribute one type's schemas lack matches only resources of
   * that type that carry it as an unknown attribute (kept as sent), as it does on that type's own endpoint.
   * Costs what the two per-type queries cost, with at most one page of resources read in all.
   */
  async function rootSearch(contexts: ResourceContext[], request: ScimRequest): Promise<ScimResponse> {
    const query = await searchQuery(request);
    const parsed = contexts.map((ctx) => unwrap(parseListQuery(ctx, query, options.paging, options.filterLimits)));
    const { startIndex, count } = parsed[0]!;
    let skip = startIndex - 1;
    let room = count;
    let total = 0;
    let bytes = 0;
    const items: ResourceText[] = [];
    for (const [i, ctx] of contexts.entries()) {
      const own = parsed[i]!;
      const result = await listResources(ctx, { ...own, startIndex: skip + 1, count: room }, request.baseUrl);
      bytes += pageBytesOf(result.resources.map((r) => r.stored));
      if (bytes > MAX_PAGE_BYTES) throw pageTooLarge(ctx, items.length + result.resources.length, startIndex - 1);
      total += result.total;
      await renderPage(ctx, result.resources, own.projection, request.baseUrl, items);
      room -= result.resources.length;
      // While this type has resources past this page (the page is full, or ended early because its users
      // are in many groups), the next type must not fill the rest: a client stepping by itemsPerPage would
      // skip them. Later types then count towards totalResults only.
      if (skip + result.resources.length < result.total) room = 0;
      skip = Math.max(0, skip - result.total);
    }
    return rawJsonResponse(200, await joinBody(listResponsePieces(total, startIndex, items)));
  }

  async function collection(ctx: ResourceContext, request: ScimRequest, method: string, connection: StoredConnection): Promise<ScimResponse> {
    if (method === 'GET') return list(ctx, request, request.query);
    if (method === 'POST') {
      const projection = projectionOf(ctx, request);
      const stored = unwrap(await createResource(ctx, await requestJson(request)));
      auditWrite(emit, connection, { kind: ctx.spec.kind, id: stored.id, method, status: 201 });
      return resourceResponse(ctx, request, 201, stored, projection);
    }
    throw methodNotAllowed('GET, HEAD, POST');
  }

  /**
   * `write` of the request's body, with a context that knows the body's bytes (ResourceContext.bodyBytes: what
   * a write waiting for a group's lease holds). The body is held no longer than `write` runs.
   */
  async function withBody<T>(ctx: ResourceContext, request: ScimRequest, write: (weighed: ResourceContext, body: unknown) => Promise<T>): Promise<T> {
    const { value, bytes } = await requestBody(request);
    return write({ ...ctx, bodyBytes: bytes }, value);
  }

  async function single(ctx: ResourceContext, request: ScimRequest, method: string, id: string, connection: StoredConnection): Promise<ScimResponse> {
    const conditions = { ifMatch: request.headers['if-match'], ifNoneMatch: request.headers['if-none-match'] };
    const projection = ['GET', 'PUT', 'PATCH'].includes(method) ? projectionOf(ctx, request) : null;
    switch (method) {
      case 'GET': {
        const group = ctx.spec.kind === 'Group' ? await readGroup(ctx, id, projection!, request.baseUrl) : null;
        const stored = group ? group.stored : unwrap(await readResource(ctx, id));
        // RFC 9110 §13.2.2: If-Match first (a read pinned to a version another write has passed is a 412).
        if (conditions.ifMatch && !etagListMatches(conditions.ifMatch, stored.version)) throw preconditionFailedError(id);
        if (conditions.ifNoneMatch && etagListMatches(conditions.ifNoneMatch, stored.version)) {
          return { status: 304, headers: { ETag: etagOf(stored.version) } };
        }
        return resourceResponse(ctx, request, 200, stored, projection!, group?.members);
      }
      case 'PUT': {
        const { stored, active } = unwrap(await withBody(ctx, request, (weighed, body) => replaceResource(weighed, id, body, conditions)));
        auditWrite(emit, connection, { kind: ctx.spec.kind, id, method, status: 200, active });
        return resourceResponse(ctx, request, 200, stored, projection!);
      }
      case 'PATCH': {
        // RFC 7644 §3.5.2: 204 unless the client asked for attributes back (an empty parameter asks for none, as parseProjection reads it).
        const param = paramReader(request.query);
        const wantsBody = Boolean(param('attributes')) || Boolean(param('excludedAttributes'));
        // A group answered with its members is weighed before the write: refused after it, the PATCH would be
        // applied, and then applied again by the client's retry.
        if (wantsBody && ctx.spec.kind === 'Group' && wantsMembers(projection!)) {
          const bare = await ctx.store.getResource(ctx.connectionId, 'Group', id, { members: false });
          ctx.heavy.charge((bare?.memberCount ?? 0) * MEMBER_READ_BYTES);
        }
        const { stored, active } = unwrap(await withBody(ctx, request, (weighed, body) => patchResource(weighed, id, body, conditions)));
        auditWrite(emit, connection, { kind: ctx.spec.kind, id, method, status: wantsBody ? 200 : 204, active });
        if (!wantsBody) return noContent({ ETag: etagOf(stored.version) });
        if (ctx.spec.kind === 'Group' && stored.members === undefined) {
          // A group PATCH writes member changes without reading the list: read what the response shows.
          const group = await readGroup(ctx, id, projection!, request.baseUrl, true);
          return resourceResponse(ctx, request, 200, group.stored, projection!, group.members);
        }
        return resourceResponse(ctx, request, 200, stored, projection!);
      }
      case 'DELETE':
        unwrap(await deleteResource(ctx, id, conditions));
        auditWrite(emit, connection, { kind: ctx.spec.kind, id, method, status: 204 });
        return noContent();
      default:
        throw methodNotAllowed('GET, HEAD, PUT, PATCH, DELETE');
    }
  }

  /** Turns any failure into a SCIM error: client mistakes as they are, an unreachable store as 503, the rest as a bare 500. */
  function toScimError(error: unknown): ScimError {
    if (error instanceof ScimError) return error;
    if (error instanceof URIError) return scimErrors.badRequest('invalidPath', 'the path is not validly percent-encoded');
    if (isStoreUnavailable(error)) {
      return new ScimError(503, 'the user store is temporarily unavailable; retry later', undefined, {
        'Retry-After': String(options.retryAfterSeconds),
      });
    }
    options.onError(error);
    return new ScimError(500, 'internal server error');
  }

  /** Tells onAnswered about an authenticated request; a throwing listener never breaks the answer. */
  function answered(request: ScimRequest, connection: StoredConnection | null, startedAt: number, started: number, status: number, scimType: string | null) {
    if (!connection || !options.onAnswered) return;
    try {
      options.onAnswered({ connection, method: request.method, path: request.path, status, scimType, startedAt, latencyMs: performance.now() - started });
    } catch (error) {
      options.onError(error);
    }
  }

  return async function handle(request: ScimRequest): Promise<ScimResponse> {
    const startedAt = Date.now();
    const started = performance.now();
    let connection: StoredConnection | null = null;
    let heavy: HeavyTicket | null = null;
    try {
      const authenticated = await authenticate(options.store, request.headers.authorization, Date.now(), options.tokenCache);
      if (authenticated instanceof ScimError) {
        emit({ type: 'scim.unauthorized', actor: 'scim', outcome: 'failure', customerId: null, connectionId: null, method: request.method, status: 401 });
        return errorResponse(authenticated);
      }
      connection = authenticated;
      const wait = limiter?.take(connection.connectionId) ?? 0;
      if (wait > 0) {
        emit({
          type: 'scim.rate_limited',
          actor: 'scim',
          outcome: 'failure',
          customerId: connection.customerId,
          connectionId: connection.connectionId,
          method: request.method,
          status: 429,
        });
        answered(request, connection, startedAt, started, 429, null);
        return errorResponse(new ScimError(429, 'too many requests for this connection; retry later', undefined, { 'Retry-After': String(wait) }));
      }
      // HEAD is GET without its body (RFC 9110 §9.3.2): the adapters' HTTP servers leave the body out.
      const counted = bodyReads.counted(request, connection.connectionId);
      heavy = heavyWork.ticket(connection.connectionId);
      const response = await route(request.method === 'HEAD' ? { ...counted, method: 'GET' } : counted, connection, heavy);
      if (isWrite(request)) await options.store.confirmWrites?.(connection.connectionId);
      answered(request, connection, startedAt, started, response.status, null);
      const sent = heavy.settle(response.body, request.reportsSent === true);
      return sent ? { ...response, sent } : response;
    } catch (error) {
      heavy?.settle(undefined);
      let scimError = toScimError(error);
      // A refusal of a write may rest on an earlier write too (a DELETE's 404 on a deletion only the primary
      // holds); one that failed its own confirmation is a 503 already, and is not confirmed again.
      if (connection && scimError.status < 500 && isWrite(request) && options.store.confirmWrites) {
        const { connectionId } = connection;
        scimError = await options.store.confirmWrites(connectionId).then(
          () => scimError,
          (confirmError: unknown) => toScimError(confirmError),
        );
      }
      auditFailure(emit, request, connection, scimError);
      answered(request, connection, startedAt, started, scimError.status, scimError.scimType ?? null);
      return errorResponse(scimError);
    }
  };
}
