/**
 * The SCIM schemas scim-sso serves (RFC 7643 §4 and §8.7.1), as data. Everything that depends on an
 * attribute's definition (case-exactness in filters, boolean coercion in PATCH, key-case normalisation,
 * `returned`, `mutability`) reads it from here, so the discovery endpoints and the behaviour agree.
 */

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type AttrOptions = Partial<Omit<AttributeDef, 'name' | 'type'>>;

/**
 * An attribute definition with RFC 7643 §7's defaults for whatever `options` leaves out; a binary value is
 * case exact (§2.3.6: base64 `QUJD` and `qUJD` are different bytes; erratum 6000 fixes x509Certificates').
 */
export function attr(name: string, type: AttributeType, options: AttrOptions = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description: '',
    required: false,
    caseExact: type === 'binary',
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
}

export const str = (name: string, description: string, options: AttrOptions = {}) => attr(name, 'string', { description, ...options });

/** The usual sub-attributes of a multi-valued attribute (RFC 7643 §2.4). */
function multiValued(name: string, description: string, valueType: AttributeType, types: string[]) {
  // RFC 7643 §7: every reference attribute names its referenceTypes (photos.value is an external URI).
  const reference = valueType === 'reference' ? { referenceTypes: ['external'] } : {};
  return attr(name, 'complex', {
    multiValued: true,
    description,
    subAttributes: [
      attr('value', valueType, { description: `The value of the ${name} entry.`, ...reference }),
      str('display', 'A human-readable name, primarily used for display purposes.'),
      str('type', `A label indicating the ${name} entry's function.`, types.length ? { canonicalValues: types } : {}),
      attr('primary', 'boolean', { description: 'Whether this is the primary value of the attribute.' }),
    ],
  });
}

const readOnlyMembership = (name: string, description: string, refTypes: string[]) =>
  attr(name, 'complex', {
    multiValued: true,
    description,
    mutability: 'readOnly',
    subAttributes: [
      str('value', 'The identifier of the group.', { mutability: 'readOnly' }),
      attr('$ref', 'reference', { description: 'The URI of the group.', mutability: 'readOnly', referenceTypes: refTypes }),
      str('display', 'A human-readable name of the group.', { mutability: 'readOnly' }),
      str('type', 'How the membership is derived.', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
    ],
  });

export const USER_SCHEMA: SchemaDef = {
  id: USER_SCHEMA_ID,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the User, typically used to authenticate. Unique per connection, compared case-insensitively.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', {
      description: "The components of the user's real name.",
      subAttributes: [
        str('formatted', 'The full name, formatted for display.'),
        str('familyName', 'The family name.'),
        str('givenName', 'The given name.'),
        str('middleName', 'The middle name(s).'),
        str('honorificPrefix', 'The honorific prefix(es).'),
        str('honorificSuffix', 'The honorific suffix(es).'),
      ],
    }),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user.'),
    attr('profileUrl', 'reference', { description: "A URI of the user's online profile.", referenceTypes: ['external'] }),
    str('title', 'The user\'s title, such as "Vice President".'),
    str('userType', 'The relationship between the organization and the user.'),
    str('preferredLanguage', "The user's preferred written or spoken language."),
    str('locale', "The user's default location, e.g. en-US."),
    str('timezone', "The user's time zone in the IANA format, e.g. America/Los_Angeles."),
    attr('active', 'boolean', { description: "The user's administrative status. Inactive users are refused at SSO login." }),
    str('password', "The user's cleartext password. Accepted and discarded; never stored or returned.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValued('emails', 'Email addresses for the user.', 'string', ['work', 'home', 'other']),
    multiValued('phoneNumbers', 'Phone numbers for the user.', 'string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multiValued('ims', 'Instant messaging addresses for the user.', 'string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multiValued('photos', 'URLs of photos of the user.', 'reference', ['photo', 'thumbnail']),
    attr('addresses', 'complex', {
      multiValued: true,
      description: 'Physical mailing addresses for this user.',
      subAttributes: [
        str('formatted', 'The full mailing address.'),
        str('streetAddress', 'The full street address component.'),
        str('locality', 'The city or locality component.'),
        str('region', 'The state or region component.'),
        str('postalCode', 'The zip code or postal code component.'),
        str('country', 'The country name component.'),
        str('type', 'A label indicating the address function.', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'boolean', { description: 'Whether this is the primary address.' }),
      ],
    }),
    readOnlyMembership('groups', 'The groups the user belongs to, derived from Group membership. Read-only.', ['Group']),
    multiValued('entitlements', 'Entitlements of the user.', 'string', []),
    multiValued('roles', 'Roles of the user.', 'string', []),
    multiValued('x509Certificates', 'Certificates of the user.', 'binary', []),
  ],
};

export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA_ID,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attr('manager', 'complex', {
      description: "The user's manager.",
      subAttributes: [
        str('value', 'The id of the SCIM resource representing the manager.'),
        attr('$ref', 'reference', { description: 'The URI of the manager.', referenceTypes: ['User'] }),
        str('displayName', 'The displayName of the manager.', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: GROUP_SCHEMA_ID,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group. Unique per connection, compared case-insensitively.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('members', 'complex', {
      multiValued: true,
      description: 'A list of members of the Group.',
      subAttributes: [
        // The member's id: case-exact like every id (RFC 7643 §3.1), so `members[value eq "…"]` matches exactly.
        str('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'reference', { description: 'The URI of the member.', mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
        // readWrite, not immutable: IdPs rename members in place (`replace members[value eq "…"].display`), and
        // this server takes that (RFC 7643 §8.7.1 does not define `display` for members).
        str('display', 'A human-readable name of the member.'),
        str('type', 'The type of the member.', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};

/** The attributes every resource has (RFC 7643 §3.1), shared by Users and Groups. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  str('id', 'Unique identifier assigned by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'Identifier assigned by the provisioning client.', { caseExact: true }),
  attr('meta', 'complex', {
    description: 'Resource metadata.',
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'The resource type.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', { description: 'When the resource was added.', mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', { description: 'When the resource was last changed.', mutability: 'readOnly' }),
      attr('location', 'reference', { description: 'The URI of the resource.', mutability: 'readOnly', caseExact: true }),
      str('version', 'The version (ETag) of the resource.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export type ResourceTypeName = 'User' | 'Group';

/** What the rest of the code needs to know about a resource type. */
export interface ResourceTypeDef {
  name: ResourceTypeName;
  endpoint: '/Users' | '/Groups';
  schema: SchemaDef;
  extensions: SchemaDef[];
}

export const RESOURCE_TYPES: Record<ResourceTypeName, ResourceTypeDef> = {
  User: { name: 'User', endpoint: '/Users', schema: USER_SCHEMA, extensions: [ENTERPRISE_USER_SCHEMA] },
  Group: { name: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA, extensions: [] },
};

/** Where an attribute reference points: its schema's URN (the core one if unqualified) and its definition. */
export interface ResolvedAttribute {
  schemaId: string;
  /** The definition, or undefined for an attribute no schema declares (kept as sent). */
  def: AttributeDef | undefined;
  /** The attribute's canonical name (the schema's spelling), or the name as given when unknown. */
  name: string;
}

const lowerIndex = new WeakMap<AttributeDef[], Map<string, AttributeDef>>();
function indexOf(attributes: AttributeDef[]): Map<string, AttributeDef> {
  let cached = lowerIndex.get(attributes);
  if (!cached) {
    cached = new Map(attributes.map((a) => [a.name.toLowerCase(), a]));
    lowerIndex.set(attributes, cached);
  }
  return cached;
}

/** Finds an attribute by name, case-insensitively (RFC 7643 §2.1), among a list of definitions. */
export function findAttribute(attributes: AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!attributes) return undefined;
  return indexOf(attributes).get(name.toLowerCase());
}

/** Finds a schema of a resource type by its URN, case-insensitively. */
export function findSchema(type: ResourceTypeDef, urn: string): SchemaDef | undefined {
  const wanted = urn.toLowerCase();
  if (type.schema.id.toLowerCase() === wanted) return type.schema;
  return type.extensions.find((s) => s.id.toLowerCase() === wanted);
}

/**
 * Resolves a top-level attribute name of a resource type: a core or common attribute by its plain name, an
 * extension attribute by its plain name when no core attribute has it, or an attribute of a schema given by
 * URN (`urn:…:enterprise:2.0:User` + `employeeNumber`).
 */
export function resolveAttribute(type: ResourceTypeDef, name: string, schemaUrn?: string): ResolvedAttribute {
  if (schemaUrn) {
    const schema = findSchema(type, schemaUrn);
    if (!schema) return { schemaId: schemaUrn, def: undefined, name };
    const def =
      schema.id === type.schema.id
        ? (findAttribute(COMMON_ATTRIBUTES, name) ?? findAttribute(schema.attributes, name))
        : findAttribute(schema.attributes, name);
    return { schemaId: schema.id, def, name: def?.name ?? name };
  }
  const def = findAttribute(COMMON_ATTRIBUTES, name) ?? findAttribute(type.schema.attributes, name);
  if (def) return { schemaId: type.schema.id, def, name: def.name };
  // An extension attribute named without its URN (`manager`, `department`; Entra documents `"path":
  // "manager"`): RFC 7644 §3.10 lets a server take it when no core attribute has the name. Every reader of
  // a path (PATCH, filters, projections, sortBy) and POST/PUT bodies (normalize.ts) resolve it so.
  for (const extension of type.extensions) {
    const found = findAttribute(extension.attributes, name);
    if (found) return { schemaId: extension.id, def: found, name: found.name };
  }
  return { schemaId: type.schema.id, def: undefined, name };
}

/** Splits `urn:…:User:employeeNumber.sub` into the URN and the rest, if the path starts with a known schema URN. */
export function splitSchemaUrn(type: ResourceTypeDef, path: string): { urn?: string; rest: string } {
  const lower = path.toLowerCase();
  for (const schema of [type.schema, ...type.extensions]) {
    const id = schema.id.toLowerCase();
    if (lower === id) return { urn: schema.id, rest: '' };
    if (lower.startsWith(id + ':')) return { urn: schema.id, rest: path.slice(id.length + 1) };
  }
  return { rest: path };
}

/**
 * The refusal of a name written `<schema URN>.<attribute>` (a dot where the colon goes,
 * `urn:…:core:2.0:User.active`), naming the form meant; null for any other name. Read literally, it splits
 * at its last colon into a "custom" URN that is a prefix of the type's own schema URN and files the attribute
 * under it: a PATCH deactivating a user so was answered 204 and left the user active.
 */
export function dottedSchemaUrnProblem(type: ResourceTypeDef, name: string): string | null {
  // Every schema URN holds a ':'; most names (every key of a body, on every write) hold none.
  if (!name.includes(':')) return null;
  const lower = name.toLowerCase();
  for (const schema of [type.schema, ...type.extensions]) {
    if (lower.startsWith(`${schema.id.toLowerCase()}.`)) {
      return `"${name}" puts a "." after the schema URN; an attribute of ${schema.id} is written "${schema.id}:${name.slice(schema.id.length + 1)}"`;
    }
  }
  return null;
}

/**
 * The refusal of a filter path that is a schema URN of the type alone (`<enterprise URN> pr`), or null. The
 * grammar reads it as an attribute named after the URN's last segment (`User`) under a shorter URN, which no
 * resource carries: `pr` matched nobody and `not (… pr)` everybody, whatever the users' extension held. A
 * filter's path names an attribute after the URN (RFC 7644 §3.4.2.2, `attrPath`).
 */
export function bareSchemaUrnProblem(type: ResourceTypeDef, name: string): string | null {
  if (!name.includes(':')) return null;
  const lower = name.toLowerCase();
  const schema = [type.schema, ...type.extensions].find((s) => s.id.toLowerCase() === lower);
  if (!schema) return null;
  const example = schema.attributes[0]?.name ?? 'attribute';
  return `"${name}" is a schema URN, not an attribute: a filter names an attribute after it, "${schema.id}:<attribute>" (e.g. "${schema.id}:${example} pr")`;
}

/** A URN as RFC 8141 shapes it: `urn:<NID>:<NSS>`, no brackets, quotes or spaces (they belong to the path's filter). */
export const CUSTOM_URN = /^urn:[a-z0-9][a-z0-9-]{0,31}:[^\s"[\]]+$/i;

/**
 * Splits `<urn>:<attribute>…` under a URN no schema of the type has (RFC 7644 §3.10: the attribute name is
 * what follows the last ":" before any value filter, as attribute names hold no ":"). Null when the text
 * before that ":" is no URN.
 */
export function splitCustomUrn(text: string): { urn: string; rest: string } | null {
  const bracket = text.indexOf('[');
  const colon = text.lastIndexOf(':', bracket < 0 ? text.length : bracket);
  const urn = text.slice(0, colon);
  return CUSTOM_URN.test(urn) ? { urn, rest: text.slice(colon + 1) } : null;
}
