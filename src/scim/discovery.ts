/**
 * The discovery endpoints (RFC 7644 §4, RFC 7643 §5–§7), built once per handler from the same schema data
 * and limits the routes use, so what they advertise is what the server does.
 */
import {
  DISCOVERY_SCHEMAS,
  RESOURCE_TYPE_SCHEMA_ID as RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA_ID as SCHEMA_SCHEMA,
  SPC_SCHEMA_ID as SPC_SCHEMA,
} from './discovery-schemas.js';
import type { JsonObject } from './normalize.js';
import { RESOURCE_TYPES, type AttributeDef, type SchemaDef } from './schemas.js';

export interface DiscoveryLimits {
  maxCount: number;
  maxPatchOperations: number;
  maxBodyBytes: number;
}

export interface Discovery {
  serviceProviderConfig(baseUrl: string): JsonObject;
  resourceTypes(baseUrl: string): JsonObject[];
  schemas(baseUrl: string): JsonObject[];
}

function renderAttribute(def: AttributeDef): JsonObject {
  const out: JsonObject = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
  };
  if (def.canonicalValues) out.canonicalValues = def.canonicalValues;
  if (def.referenceTypes) out.referenceTypes = def.referenceTypes;
  if (def.subAttributes) out.subAttributes = def.subAttributes.map(renderAttribute);
  return out;
}

function renderSchema(schema: SchemaDef, baseUrl: string): JsonObject {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function createDiscovery(limits: DiscoveryLimits): Discovery {
  const allSchemas = [RESOURCE_TYPES.User.schema, ...RESOURCE_TYPES.User.extensions, RESOURCE_TYPES.Group.schema, ...DISCOVERY_SCHEMAS];
  return {
    serviceProviderConfig: (baseUrl) => ({
      schemas: [SPC_SCHEMA],
      patch: { supported: true },
      // Bulk is not supported, but RFC 7643 §5 has no other place for the limits of a request: maxPayloadSize
      // is the largest body any endpoint accepts, maxOperations the most operations in one PATCH (authentik
      // sends a group's members one operation each, in PATCHes of bulk.maxOperations; with 0 it sent them all
      // in one, refused past maxPatchOperations). docs/limits.md lists every limit.
      bulk: { supported: false, maxOperations: limits.maxPatchOperations, maxPayloadSize: limits.maxBodyBytes },
      filter: { supported: true, maxResults: limits.maxCount },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'OAuth Bearer Token',
          description: 'A per-connection bearer token sent as "Authorization: Bearer <token>".',
          specUri: 'https://www.rfc-editor.org/info/rfc6750',
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
    }),
    resourceTypes: (baseUrl) =>
      Object.values(RESOURCE_TYPES).map((type) => ({
        schemas: [RESOURCE_TYPE_SCHEMA],
        id: type.name,
        name: type.name,
        endpoint: type.endpoint,
        description: type.schema.description,
        schema: type.schema.id,
        schemaExtensions: type.extensions.map((e) => ({ schema: e.id, required: false })),
        meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.name}` },
      })),
    schemas: (baseUrl) => allSchemas.map((s) => renderSchema(s, baseUrl)),
  };
}
