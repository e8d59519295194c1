/**
 * The SCIM service, framework-neutral: {method, path, query, headers, body} → {status, headers, body}.
 * Adapters (express.ts, koa.ts) only translate. Every error leaves as an RFC 7644 §3.12 body; an
 * unexpected failure is logged through `onError` and answered with a 500 that holds no internals, and an
 * unreachable store with a 503 and `Retry-After`.
 */
import { ScimError, scimErrors } from '../errors.js';
import type { Store, StoredConnection } from '../store/store.js';
import { authenticate } from './auth.js';
import { parseJsonBody } from './body.js';
import { createDiscovery } from './discovery.js';
import type { FilterLimits } from './filter.js';
import { errorResponse, jsonResponse, noContent, type ScimRequest, type ScimResponse } from './http.js';
import { listResources, listResponse, parseListQuery, type PagingLimits } from './list.js';
import { applyProjection, parseProjection } from './projection.js';
import { etagOf, locationOf, renderResource } from './render.js';
import type { ResourceSpec } from './resource-spec.js';
import {
  createResource,
  deleteResource,
  patchResource,
  readResource,
  replaceResource,
  type ResourceContext,
} from './resources.js';
import { groupSpec } from './groups.js';
import { userSpec } from './users.js';
import type { StoredResource } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';

export interface ScimHandlerOptions {
  store: Store;
  paging: PagingLimits;
  filterLimits: FilterLimits;
  maxPatchOperations: number;
  maxBodyBytes: number;
  /** Seconds clients are told to wait when the store is unreachable. */
  retryAfterSeconds: number;
  onError: (error: unknown) => void;
}

export type ScimHandler = (request: ScimRequest) => Promise<ScimResponse>;

const RESOURCE_ENDPOINTS: Record<string, ResourceSpec> = { users: userSpec, groups: groupSpec };

const notFound = (path: string) => scimErrors.notFound(`no SCIM endpoint at ${path}`);

function methodNotAllowed(allowed: string): ScimError {
  return new ScimError(405, `method not allowed here; allowed: ${allowed}`, undefined, { Allow: allowed });
}

function notImplemented(what: string): ScimError {
  return new ScimError(501, `${what} is not supported by this server (see /ServiceProviderConfig)`);
}

export function createScimHandler(options: ScimHandlerOptions): ScimHandler {
  const discovery = createDiscovery({
    maxCount: options.paging.maxCount,
    maxPatchOperations: options.maxPatchOperations,
    maxBodyBytes: options.maxBodyBytes,
  });

  async function route(request: ScimRequest, connection: StoredConnection): Promise<ScimResponse> {
    const segments = request.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    const [first = '', second, third] = segments;
    const endpoint = first.toLowerCase();
    const method = request.method.toUpperCase();
    if (third !== undefined) throw notFound(request.path);

    const spec = RESOURCE_ENDPOINTS[endpoint];
    if (spec) {
      const ctx: ResourceContext = {
        store: options.store,
        connectionId: connection.connectionId,
        spec,
        maxPatchOperations: options.maxPatchOperations,
      };
      if (second === undefined) return collection(ctx, request, method);
      if (second === '.search') return method === 'POST' ? search(ctx, request) : Promise.reject(methodNotAllowed('POST'));
      return single(ctx, request, method, second);
    }
    if (method !== 'GET') {
      if (['serviceproviderconfig', 'resourcetypes', 'schemas'].includes(endpoint)) throw methodNotAllowed('GET');
      if (endpoint === 'bulk') throw notImplemented('Bulk');
      if (endpoint === '.search') throw notImplemented('POST /.search across resource types');
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

  function discoveryList(items: Record<string, unknown>[], id: string | undefined, kind: string): ScimResponse {
    if (id === undefined) {
      return jsonResponse(200, listResponse({ total: items.length, startIndex: 1, resources: [] }, items as never));
    }
    const found = items.find((item) => String(item.id).toLowerCase() === id.toLowerCase());
    if (!found) throw scimErrors.notFound(`${kind} ${id} not found`);
    return jsonResponse(200, found);
  }

  function body(request: ScimRequest): unknown {
    const parsed = parseJsonBody(request.body, request.headers['content-type']);
    if (parsed instanceof ScimError) throw parsed;
    return parsed;
  }

  function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: ScimError }): T {
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** One resource in a response, with its ETag and projection. */
  function resourceResponse(ctx: ResourceContext, request: ScimRequest, status: number, stored: StoredResource): ScimResponse {
    const projection = parseProjection(ctx.spec.type, request.query.get('attributes'), request.query.get('excludedAttributes'));
    const rendered = applyProjection(renderResource(ctx.spec, stored, request.baseUrl), projection);
    const headers: Record<string, string> = { ETag: etagOf(stored.version) };
    if (status === 201) headers.Location = locationOf(ctx.spec, request.baseUrl, stored.id);
    return jsonResponse(status, rendered, headers);
  }

  async function list(ctx: ResourceContext, request: ScimRequest, query: URLSearchParams): Promise<ScimResponse> {
    const parsed = unwrap(parseListQuery(ctx, query, options.paging, options.filterLimits));
    const result = await listResources(ctx, parsed, request.baseUrl);
    const items = result.resources.map((r) => applyProjection(r, parsed.projection));
    return jsonResponse(200, listResponse(result, items));
  }

  /** POST /Users/.search (RFC 7644 §3.4.3): the query in a JSON body. */
  function search(ctx: ResourceContext, request: ScimRequest): Promise<ScimResponse> {
    const input = body(request);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw scimErrors.badRequest('invalidSyntax', 'a SearchRequest must be a JSON object');
    }
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(input)) {
      if (key === 'schemas' || value === null || value === undefined) continue;
      query.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    return list(ctx, request, query);
  }

  async function collection(ctx: ResourceContext, request: ScimRequest, method: string): Promise<ScimResponse> {
    if (method === 'GET') return list(ctx, request, request.query);
    if (method === 'POST') return resourceResponse(ctx, request, 201, unwrap(await createResource(ctx, body(request))));
    throw methodNotAllowed('GET, POST');
  }

  async function single(ctx: ResourceContext, request: ScimRequest, method: string, id: string): Promise<ScimResponse> {
    const ifMatch = request.headers['if-match'];
    switch (method) {
      case 'GET': {
        const stored = unwrap(await readResource(ctx, id));
        const ifNoneMatch = request.headers['if-none-match'];
        if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etagOf(stored.version))) {
          return { status: 304, headers: { ETag: etagOf(stored.version) } };
        }
        return resourceResponse(ctx, request, 200, stored);
      }
      case 'PUT':
        return resourceResponse(ctx, request, 200, unwrap(await replaceResource(ctx, id, body(request), ifMatch)));
      case 'PATCH': {
        const stored = unwrap(await patchResource(ctx, id, body(request), ifMatch));
        // RFC 7644 §3.5.2: 204 unless the client asked for attributes back.
        const wantsBody = request.query.has('attributes') || request.query.has('excludedAttributes');
        return wantsBody ? resourceResponse(ctx, request, 200, stored) : noContent({ ETag: etagOf(stored.version) });
      }
      case 'DELETE':
        unwrap(await deleteResource(ctx, id, ifMatch));
        return noContent();
      default:
        throw methodNotAllowed('GET, PUT, PATCH, DELETE');
    }
  }

  return async function handle(request: ScimRequest): Promise<ScimResponse> {
    try {
      const connection = await authenticate(options.store, request.headers.authorization);
      if (connection instanceof ScimError) return errorResponse(connection);
      return await route(request, connection);
    } catch (error) {
      if (error instanceof ScimError) return errorResponse(error);
      if (error instanceof URIError) return errorResponse(scimErrors.badRequest('invalidPath', 'the path is not validly percent-encoded'));
      if (isStoreUnavailable(error)) {
        return errorResponse(
          new ScimError(503, 'the user store is temporarily unavailable; retry later', undefined, {
            'Retry-After': String(options.retryAfterSeconds),
          }),
        );
      }
      options.onError(error);
      return errorResponse(new ScimError(500, 'internal server error'));
    }
  };
}

