/**
 * The schemas of the discovery resources themselves (RFC 7643 §5–§7, represented in §8.7.2):
 * ServiceProviderConfig, ResourceType and Schema, served under /Schemas beside the User and Group ones, so
 * that a client that resolves every `schemas` URN it meets finds each. Everything in them is read-only.
 */
import { attr, str, type AttrOptions, type AttributeDef, type SchemaDef } from './schemas.js';

export const SPC_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

const readOnly = (options: AttrOptions = {}): AttrOptions => ({ mutability: 'readOnly', ...options });
const flag = (name: string, description: string) => attr(name, 'boolean', readOnly({ description, required: true }));
const count = (name: string, description: string) => attr(name, 'integer', readOnly({ description, required: true }));
const uri = (name: string, description: string, options: AttrOptions = {}) =>
  attr(name, 'reference', readOnly({ description, referenceTypes: ['uri'], ...options }));
const external = (name: string, description: string) => attr(name, 'reference', readOnly({ description, referenceTypes: ['external'] }));
/** A complex attribute telling whether a feature is supported, with its other settings. */
const feature = (name: string, description: string, ...more: AttributeDef[]) =>
  attr(name, 'complex', readOnly({ description, required: true, subAttributes: [flag('supported', `Whether ${name} is supported.`), ...more] }));

export const SPC_SCHEMA: SchemaDef = {
  id: SPC_SCHEMA_ID,
  name: 'Service Provider Configuration',
  description: "Schema for representing the service provider's configuration",
  attributes: [
    external('documentationUri', "An HTTP-addressable URL pointing to the service provider's human-consumable help documentation."),
    feature('patch', 'A complex type that specifies PATCH configuration options.'),
    feature(
      'bulk',
      'A complex type that specifies bulk configuration options.',
      count('maxOperations', 'The maximum number of operations.'),
      count('maxPayloadSize', 'The maximum payload size in bytes.'),
    ),
    feature('filter', 'A complex type that specifies FILTER options.', count('maxResults', 'The maximum number of resources returned in a response.')),
    feature('changePassword', 'A complex type that specifies configuration options related to changing a password.'),
    feature('sort', 'A complex type that specifies sort result options.'),
    feature('etag', 'A complex type that specifies ETag configuration options.'),
    attr(
      'authenticationSchemes',
      'complex',
      readOnly({
        multiValued: true,
        required: true,
        description: 'A complex type that specifies supported authentication scheme properties.',
        subAttributes: [
          str(
            'type',
            'The authentication scheme.',
            readOnly({ required: true, canonicalValues: ['oauth', 'oauth2', 'oauthbearertoken', 'httpbasic', 'httpdigest'] }),
          ),
          str('name', 'The common authentication scheme name, e.g., HTTP Basic.', readOnly({ required: true })),
          str('description', 'A description of the authentication scheme.', readOnly({ required: true })),
          external('specUri', "An HTTP-addressable URL pointing to the authentication scheme's specification."),
          external('documentationUri', "An HTTP-addressable URL pointing to the authentication scheme's usage documentation."),
          attr('primary', 'boolean', readOnly({ description: 'Whether this is the preferred authentication scheme.' })),
        ],
      }),
    ),
  ],
};

export const RESOURCE_TYPE_SCHEMA: SchemaDef = {
  id: RESOURCE_TYPE_SCHEMA_ID,
  name: 'ResourceType',
  description: 'Specifies the schema that describes a SCIM resource type',
  attributes: [
    str('id', "The resource type's server unique id.", readOnly()),
    str('name', 'The resource type name.', readOnly({ required: true })),
    str('description', "The resource type's human-readable description.", readOnly()),
    uri('endpoint', "The resource type's HTTP-addressable endpoint relative to the Base URL, e.g., '/Users'.", { required: true }),
    uri('schema', "The resource type's primary/base schema URI.", { required: true, caseExact: true }),
    attr(
      'schemaExtensions',
      'complex',
      readOnly({
        multiValued: true,
        description: "A list of URIs of the resource type's schema extensions.",
        subAttributes: [
          uri('schema', 'The URI of a schema extension.', { required: true, caseExact: true }),
          attr('required', 'boolean', readOnly({ required: true, description: 'Whether a resource must include this schema extension.' })),
        ],
      }),
    ),
  ],
};

/** The characteristics of an attribute definition (RFC 7643 §7), without `subAttributes`. */
const characteristics: AttributeDef[] = [
  str('name', "The attribute's name.", readOnly({ required: true, caseExact: true })),
  str(
    'type',
    "The attribute's data type.",
    readOnly({ required: true, canonicalValues: ['string', 'complex', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'binary'] }),
  ),
  attr('multiValued', 'boolean', readOnly({ required: true, description: 'Whether the attribute is multi-valued.' })),
  str('description', 'A human-readable description of the attribute.', readOnly()),
  attr('required', 'boolean', readOnly({ description: 'Whether the attribute is required.' })),
  str('canonicalValues', 'A collection of canonical values.', readOnly({ multiValued: true })),
  attr('caseExact', 'boolean', readOnly({ description: 'Whether a string attribute is case sensitive.' })),
  str('mutability', 'Whether the attribute can be modified.', readOnly({ canonicalValues: ['readOnly', 'readWrite', 'immutable', 'writeOnly'] })),
  str('returned', 'When the attribute is returned in a response.', readOnly({ canonicalValues: ['always', 'never', 'default', 'request'] })),
  str('uniqueness', "The attribute's uniqueness.", readOnly({ canonicalValues: ['none', 'server', 'global'] })),
  str('referenceTypes', 'The names of the resource types that may be referenced.', readOnly({ multiValued: true })),
];

export const SCHEMA_SCHEMA: SchemaDef = {
  id: SCHEMA_SCHEMA_ID,
  name: 'Schema',
  description: 'Specifies the schema attribute',
  attributes: [
    str('id', 'The unique URI of the schema.', readOnly({ required: true, caseExact: true })),
    str('name', 'The schema name.', readOnly()),
    str('description', 'The schema description.', readOnly()),
    attr(
      'attributes',
      'complex',
      readOnly({
        multiValued: true,
        required: true,
        description: 'A complex attribute that includes the attributes of a schema.',
        subAttributes: [
          ...characteristics,
          attr(
            'subAttributes',
            'complex',
            readOnly({ multiValued: true, description: 'The sub-attributes of a complex attribute.', subAttributes: characteristics }),
          ),
        ],
      }),
    ),
  ],
};

/** The discovery resources' schemas, in the order /Schemas lists them after the resource schemas. */
export const DISCOVERY_SCHEMAS: readonly SchemaDef[] = [SPC_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA];
