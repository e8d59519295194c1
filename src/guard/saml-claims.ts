/**
 * From a validated SAML assertion to the claims the guard matches on and records: `sub` is the NameID,
 * `email` the connection's email attribute, `saml_attribute` its match attribute. Only single string values
 * count; anything else is treated as absent. Read from the signed assertion node-saml returns
 * (`assertionProfile`), never from the rest of node-saml's profile, where an attribute named `nameID` or
 * `inResponseTo` fills a field the XML left out. Pure.
 */
import type { Claims } from './identity.js';

/** The longest attribute value kept (longer ones are treated as absent). */
const MAX_VALUE = 1000;

/** A node of XML as node-saml parses it (xml2js: attributes under `$`, text under `_`, children by name). */
export type XmlNode = { $?: Record<string, string>; _?: string; [child: string]: unknown };

/** The children of `node` named `name` (own properties only: the names come from the IdP's XML). */
export const children = (node: XmlNode | undefined, name: string): XmlNode[] => {
  const value = node && Object.hasOwn(node, name) ? node[name] : undefined;
  return Array.isArray(value) ? (value as XmlNode[]) : [];
};

/** The attribute `name` of `node`, or null. */
export const attr = (node: XmlNode | undefined, name: string): string | null => (node?.$ && Object.hasOwn(node.$, name) ? (node.$[name] ?? null) : null);

/** The text of an element: xml2js gives a bare string when it has no attributes, else `_`. */
const textOf = (node: unknown): unknown =>
  typeof node === 'string' ? node : node && typeof node === 'object' && !Array.isArray(node) ? (node as XmlNode)._ : undefined;

/** What the claims are read from: a NameID, its format, the issuer, and every attribute's values. */
export interface SamlProfileLike {
  nameID?: unknown;
  nameIDFormat?: unknown;
  issuer?: unknown;
  attributes?: unknown;
}

/**
 * The claims' sources from the signed assertion (xml2js form): the Subject's NameID and its Format, and per
 * attribute name every value of every `<Attribute>` of that name in every AttributeStatement, so an
 * attribute sent twice has two values (and counts as absent) instead of the last one winning.
 */
export function assertionProfile(assertion: XmlNode, issuer: unknown): SamlProfileLike {
  const nameIds = children(children(assertion, 'Subject')[0], 'NameID');
  const attributes: Record<string, unknown[]> = Object.create(null) as Record<string, unknown[]>;
  for (const statement of children(assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (name === null) continue;
      (attributes[name] ??= []).push(...children(attribute, 'AttributeValue').map((value) => textOf(value) ?? value));
    }
  }
  return {
    nameID: nameIds.length === 1 ? textOf(nameIds[0]) : undefined,
    nameIDFormat: nameIds.length === 1 ? attr(nameIds[0], 'Format') : undefined,
    issuer,
    attributes,
  };
}

const single = (value: unknown): string | null => {
  const one = Array.isArray(value) && value.length === 1 ? value[0] : value;
  return typeof one === 'string' && one !== '' && one.length <= MAX_VALUE && !/\p{Cc}/u.test(one) ? one : null;
};

/** An attribute's single string value; own properties only (attribute names come from the IdP). */
export function attributeOf(profile: SamlProfileLike, name: string): string | null {
  const attributes = profile.attributes;
  if (typeof attributes !== 'object' || attributes === null || !Object.hasOwn(attributes, name)) return null;
  return single((attributes as Record<string, unknown>)[name]);
}

const DISPLAY_NAME_ATTRIBUTES = ['http://schemas.microsoft.com/identity/claims/displayname', 'displayName', 'name'];

export function samlClaims(profile: SamlProfileLike, settings: { emailAttribute: string; matchAttribute: string }): Claims {
  const claims: Claims = {};
  const nameId = single(profile.nameID);
  if (nameId) claims.sub = nameId;
  const format = single(profile.nameIDFormat);
  if (format) claims.saml_name_id_format = format;
  const issuer = single(profile.issuer);
  if (issuer) claims.iss = issuer;
  const email = attributeOf(profile, settings.emailAttribute);
  if (email) claims.email = email;
  const matched = attributeOf(profile, settings.matchAttribute);
  if (matched) claims.saml_attribute = matched;
  for (const name of DISPLAY_NAME_ATTRIBUTES) {
    const value = attributeOf(profile, name);
    if (value) {
      claims.name = value;
      break;
    }
  }
  return claims;
}
