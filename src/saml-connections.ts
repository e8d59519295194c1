/**
 * Management of SAML connections: a customer's SSO connection when its IdP speaks SAML 2.0 (one SSO
 * connection per customer: an OIDC client or a SAML connection, never both), paired with the customer's
 * SCIM connection by `customerId`. The IdP type picks the default matching strategy; the IdP's settings come
 * from its metadata (XML or URL, read once here) or are given one by one. docs/saml.md.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { checkCustomerId } from './connections.js';
import { parseArgument as parse, ScimSsoConfigError } from './errors.js';
import type { AuditEventType, Emit } from './events.js';
import { SAML_MATCHING_STRATEGIES, type SamlMatchingStrategy } from './match/strategies.js';
import { fetchIdpMetadata, MAX_IDP_CERTS, MAX_METADATA_BYTES, parseIdpMetadata, type IdpSettings } from './saml/idp-metadata.js';
import { signingKeyProblem } from './saml/signing-key.js';
import type { IdpType, SamlSignedPart, Store, StoredSamlConnection } from './store/store.js';

/** Default strategy per IdP type: Entra's object identifier ↔ externalId; Okta's NameID (the email) ↔ userName. */
export const DEFAULT_SAML_STRATEGY: Record<IdpType, SamlMatchingStrategy> = {
  Okta: 'SamlNameIdToScimUsername',
  MicrosoftEntra: 'SamlAttributeToScimExternalId',
  Generic: 'SamlNameIdToScimUsername',
};

/** Entra's attribute holding the user's directory object id (what its SCIM app sends as externalId). */
export const ENTRA_OBJECT_ID_ATTRIBUTE = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
/** Entra's email attribute. */
export const ENTRA_EMAIL_ATTRIBUTE = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';

const DEFAULT_MATCH_ATTRIBUTE: Record<IdpType, string> = { Okta: 'externalId', MicrosoftEntra: ENTRA_OBJECT_ID_ATTRIBUTE, Generic: 'externalId' };
const DEFAULT_EMAIL_ATTRIBUTE: Record<IdpType, string> = { Okta: 'email', MicrosoftEntra: ENTRA_EMAIL_ATTRIBUTE, Generic: 'email' };

/** Default accepted clock skew: a minute (at most 300 s can be configured). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);
const attributeName = z.string().regex(/^[\x21-\x7E]{1,300}$/, 'an attribute name is 1-300 printable ASCII characters');
const cert = z.string().min(1).max(20_000);

const settings = {
  idpType: z.enum(['Okta', 'MicrosoftEntra', 'Generic']),
  /** The IdP's metadata document (read now; its entity ID, SSO URL and signing certificates are kept). */
  idpMetadataXml: z.string().min(1).max(MAX_METADATA_BYTES),
  /** Where to fetch the IdP's metadata (now, once: call updateSamlConnection with it again to refresh). */
  idpMetadataUrl: httpUrl,
  /** The IdP's SSO URL, certificate(s) and entity ID, when given without metadata (all three together). */
  entryPoint: httpUrl,
  idpCert: z.union([cert, z.array(cert).min(1).max(MAX_IDP_CERTS)]),
  idpIssuer: z.string().min(1).max(1000),
  /** This app's ACS URL for the customer: `<origin><prefix>/<customerId>/saml/acs`. */
  acsUrl: httpUrl,
  /** This app's entity ID for the customer; default: the ACS URL with `/acs` replaced by `/metadata`. */
  spEntityId: z.string().min(1).max(1000),
  matchingStrategy: z.enum(SAML_MATCHING_STRATEGIES),
  matchAttribute: attributeName,
  emailAttribute: attributeName,
  /** Which parts must be signed by the IdP: 'assertion' (default), 'response' or 'both'. */
  signed: z.enum(['assertion', 'response', 'both']),
  clockSkewSeconds: z.number().int().min(0).max(300),
};

const createSchema = z.strictObject({
  customerId: z.string(),
  idpType: settings.idpType,
  acsUrl: settings.acsUrl,
  idpMetadataXml: settings.idpMetadataXml.optional(),
  idpMetadataUrl: settings.idpMetadataUrl.optional(),
  entryPoint: settings.entryPoint.optional(),
  idpCert: settings.idpCert.optional(),
  idpIssuer: settings.idpIssuer.optional(),
  spEntityId: settings.spEntityId.optional(),
  matchingStrategy: settings.matchingStrategy.optional(),
  matchAttribute: settings.matchAttribute.optional(),
  emailAttribute: settings.emailAttribute.optional(),
  signed: settings.signed.optional(),
  clockSkewSeconds: settings.clockSkewSeconds.optional(),
});

const updateSchema = z.strictObject(settings).partial();

export type CreateSamlConnectionInput = z.input<typeof createSchema>;
export type UpdateSamlConnectionInput = z.input<typeof updateSchema>;

/** A SAML connection as the app sees it, with the paired SCIM connection's id. */
export interface SamlConnection {
  samlConnectionId: string;
  customerId: string;
  idpType: IdpType;
  idpEntityId: string;
  entryPoint: string;
  /** The IdP signing certificates (PEM) responses are checked against: any one of them may sign. */
  idpCerts: string[];
  spEntityId: string;
  acsUrl: string;
  matchingStrategy: SamlMatchingStrategy;
  matchAttribute: string;
  emailAttribute: string;
  signed: SamlSignedPart;
  clockSkewSeconds: number;
  scimConnectionId: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toPublicSamlConnection(c: StoredSamlConnection, scimConnectionId: string | null): SamlConnection {
  return { ...c, idpCerts: [...c.idpCerts], matchingStrategy: c.matchingStrategy as SamlMatchingStrategy, scimConnectionId };
}

/**
 * A certificate as PEM (a base64 DER body gets the PEM armour), after checking it parses as X.509 and its key
 * is one the ACS can afford to check signatures with (src/saml/signing-key.ts).
 */
function certificatePem(input: string, what: string): string {
  const body = input
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '')
    .trim();
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new ScimSsoConfigError('invalid_argument', `${what}: idpCert is not an X.509 certificate (PEM or base64 DER)`);
  }
  let problem: string | null;
  try {
    problem = signingKeyProblem(cert);
  } catch {
    problem = 'its public key cannot be read';
  }
  if (problem) throw new ScimSsoConfigError('invalid_argument', `${what}: the IdP certificate is refused: ${problem}`);
  return pem;
}

/** The SP entity ID a connection gets by default: its ACS URL with a last `/acs` replaced by `/metadata`. */
export const defaultSpEntityId = (acsUrl: string): string => acsUrl.replace(/\/acs$/, '/metadata');

type IdpSource = Pick<CreateSamlConnectionInput, 'idpMetadataXml' | 'idpMetadataUrl' | 'entryPoint' | 'idpCert' | 'idpIssuer'>;

/**
 * The IdP settings from exactly one source (metadata XML, metadata URL, or entryPoint + idpCert + idpIssuer),
 * or null when the input names none (an update that leaves the IdP as it is).
 */
async function resolveIdp(input: IdpSource, what: string, allowHttp: boolean, allowPrivate: boolean): Promise<IdpSettings | null> {
  const manual = input.entryPoint !== undefined || input.idpCert !== undefined || input.idpIssuer !== undefined;
  const sources = [input.idpMetadataXml !== undefined, input.idpMetadataUrl !== undefined, manual].filter(Boolean).length;
  if (sources === 0) return null;
  if (sources > 1) throw new ScimSsoConfigError('invalid_argument', `${what}: give one of idpMetadataXml, idpMetadataUrl, or entryPoint + idpCert + idpIssuer`);
  let settings: IdpSettings;
  if (manual) {
    if (input.entryPoint === undefined || input.idpCert === undefined || input.idpIssuer === undefined) {
      throw new ScimSsoConfigError('invalid_argument', `${what}: entryPoint, idpCert and idpIssuer go together`);
    }
    settings = { entryPoint: input.entryPoint, idpEntityId: input.idpIssuer, idpCerts: [input.idpCert].flat() };
  } else {
    let xml = input.idpMetadataXml;
    try {
      if (input.idpMetadataUrl !== undefined) {
        if (new URL(input.idpMetadataUrl).protocol !== 'https:' && !allowHttp)
          throw new Error('the metadata URL is not https (allowHttpIssuers is for local testing)');
        xml = await fetchIdpMetadata(input.idpMetadataUrl, allowPrivate);
      }
      settings = parseIdpMetadata(xml!);
    } catch (error) {
      throw new ScimSsoConfigError('invalid_argument', `${what}: ${error instanceof Error ? error.message : 'the IdP metadata could not be read'}`);
    }
  }
  if (!/^https?:\/\//.test(settings.entryPoint)) throw new ScimSsoConfigError('invalid_argument', `${what}: the IdP SSO URL must be http(s)`);
  return { ...settings, idpCerts: settings.idpCerts.map((c) => certificatePem(c, what)) };
}

export function samlConnectionManager(store: Store, emit: Emit = () => {}, options: { allowHttp?: boolean; allowPrivate?: boolean } = {}) {
  const allowHttp = options.allowHttp ?? false;
  const allowPrivate = options.allowPrivate ?? allowHttp;
  const changed = (type: AuditEventType, customerId: string) => emit({ type, actor: 'admin', outcome: 'success', customerId, connectionId: null });
  const pairedConnectionId = async (customerId: string) => (await store.getConnectionByCustomer(customerId))?.connectionId ?? null;

  return {
    /** Creates the customer's SAML connection; refused when it has one, or has an OIDC client. */
    async createSamlConnection(input: CreateSamlConnectionInput): Promise<SamlConnection> {
      const parsed = parse(createSchema, input, 'createSamlConnection');
      const customerId = checkCustomerId(parsed.customerId);
      const idp = await resolveIdp(parsed, 'createSamlConnection', allowHttp, allowPrivate);
      if (!idp)
        throw new ScimSsoConfigError('invalid_argument', 'createSamlConnection: give idpMetadataXml, idpMetadataUrl, or entryPoint + idpCert + idpIssuer');
      const now = new Date().toISOString();
      const record: StoredSamlConnection = {
        samlConnectionId: randomUUID(),
        customerId,
        idpType: parsed.idpType,
        ...idp,
        spEntityId: parsed.spEntityId ?? defaultSpEntityId(parsed.acsUrl),
        acsUrl: parsed.acsUrl,
        matchingStrategy: parsed.matchingStrategy ?? DEFAULT_SAML_STRATEGY[parsed.idpType],
        matchAttribute: parsed.matchAttribute ?? DEFAULT_MATCH_ATTRIBUTE[parsed.idpType],
        emailAttribute: parsed.emailAttribute ?? DEFAULT_EMAIL_ATTRIBUTE[parsed.idpType],
        signed: parsed.signed ?? 'assertion',
        clockSkewSeconds: parsed.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        createdAt: now,
        updatedAt: now,
      };
      const created = await store.createSamlConnection(record);
      if (created === 'exists') throw new ScimSsoConfigError('saml_connection_exists', `customer "${customerId}" already has a SAML connection`);
      if (created === 'other_protocol') {
        throw new ScimSsoConfigError(
          'sso_connection_exists',
          `customer "${customerId}" already has an OIDC client; a customer has one SSO connection (delete it first to switch to SAML)`,
        );
      }
      changed('saml_connection.created', customerId);
      return toPublicSamlConnection(record, await pairedConnectionId(customerId));
    },

    /** Changes settings of the customer's SAML connection; they apply from the next login step. */
    async updateSamlConnection(customerId: string, patch: UpdateSamlConnectionInput): Promise<SamlConnection> {
      checkCustomerId(customerId);
      const changes = parse(updateSchema, patch, 'updateSamlConnection');
      const { idpMetadataXml, idpMetadataUrl, entryPoint, idpCert, idpIssuer, ...rest } = changes;
      const idp = await resolveIdp({ idpMetadataXml, idpMetadataUrl, entryPoint, idpCert, idpIssuer }, 'updateSamlConnection', allowHttp, allowPrivate);
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await store.getSamlConnection(customerId);
        if (!current) throw new ScimSsoConfigError('saml_connection_not_found', `customer "${customerId}" has no SAML connection`);
        const updatedAt = new Date(Math.max(Date.now(), Date.parse(current.updatedAt) + 1)).toISOString();
        const next: StoredSamlConnection = { ...current, ...rest, ...(idp ?? {}), updatedAt };
        // Settings that were the old IdP type's defaults follow a new IdP type.
        if (rest.idpType && !rest.matchingStrategy && current.matchingStrategy === DEFAULT_SAML_STRATEGY[current.idpType]) {
          next.matchingStrategy = DEFAULT_SAML_STRATEGY[rest.idpType];
        }
        if (rest.idpType && !rest.matchAttribute && current.matchAttribute === DEFAULT_MATCH_ATTRIBUTE[current.idpType]) {
          next.matchAttribute = DEFAULT_MATCH_ATTRIBUTE[rest.idpType];
        }
        if (rest.idpType && !rest.emailAttribute && current.emailAttribute === DEFAULT_EMAIL_ATTRIBUTE[current.idpType]) {
          next.emailAttribute = DEFAULT_EMAIL_ATTRIBUTE[rest.idpType];
        }
        if (await store.replaceSamlConnection(next, current.updatedAt)) {
          changed('saml_connection.updated', customerId);
          return toPublicSamlConnection(next, await pairedConnectionId(customerId));
        }
      }
      throw new ScimSsoConfigError('saml_connection_not_found', `customer "${customerId}"'s SAML connection kept changing during the update; retry`);
    },

    /** The customer's SAML connection, or null. */
    async fetchSamlConnection(customerId: string): Promise<SamlConnection | null> {
      const found = await store.getSamlConnection(checkCustomerId(customerId));
      return found ? toPublicSamlConnection(found, await pairedConnectionId(customerId)) : null;
    },

    /** Deletes the customer's SAML connection and its recorded SSO users; false if there was none. */
    async deleteSamlConnection(customerId: string): Promise<boolean> {
      const deleted = await store.deleteSamlConnection(checkCustomerId(customerId));
      if (deleted) changed('saml_connection.deleted', customerId);
      return deleted;
    },
  };
}
