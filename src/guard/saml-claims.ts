/**
 * From a validated SAML assertion (node-saml's profile of the signed assertion) to the claims the guard
 * matches on and records: `sub` is the NameID, `email` the connection's email attribute, `saml_attribute`
 * its match attribute. Only single string values count; anything else is treated as absent. Pure.
 */
import type { Claims } from './identity.js';

/** The longest attribute value kept (longer ones are treated as absent). */
const MAX_VALUE = 1000;

/** What the profile carries that this reads (node-saml's Profile, loosely typed: it is parsed XML). */
export interface SamlProfileLike {
  nameID?: unknown;
  nameIDFormat?: unknown;
  issuer?: unknown;
  attributes?: unknown;
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
