/**
 * Roles from groups: a customer's mapping from IdP groups (pushed over SCIM) to the app's own roles, and the
 * pure rule that turns a person's groups into their roles. Rules are ordered: the first rule has the highest
 * precedence, and a person's roles come out in rule order (so `roles[0]` is their most important role).
 * No I/O here; storage is the store's (Store.setRoleMapping), checks are the management API's (src/roles/roles-api.ts).
 */
import { z } from 'zod';
import { ScimSsoConfigError } from '../errors.js';
import { fold } from '../fold.js';
import type { StoredRoleMapping } from '../store/store.js';

/** Most rules one mapping may hold, and most roles one rule may grant. */
export const MAX_ROLE_RULES = 200;
export const MAX_ROLES_PER_RULE = 20;

// No comma: the dashboard's Roles page lists a rule's roles comma-separated and reads them back that way.
const roleName = z
  .string()
  .regex(/^[\x21-\x2B\x2D-\x7E](?:[\x20-\x2B\x2D-\x7E]{0,98}[\x21-\x2B\x2D-\x7E])?$/, 'a role is 1–100 printable ASCII characters, no comma, no edge spaces');
const groupText = z.string().min(1).max(256);

/** Checks the role a `requireRole` middleware is built for, at setup time. */
export function checkRole(role: unknown): string {
  if (!roleName.safeParse(role).success)
    throw new ScimSsoConfigError('invalid_argument', 'requireRole: a role is 1–100 printable ASCII characters, no comma, no edge spaces');
  return role as string;
}

/** One rule: members of the group (by SCIM id, or by displayName compared case-insensitively) get `roles`. */
export const roleRuleSchema = z.union([
  z.strictObject({ groupId: groupText, roles: z.array(roleName).min(1).max(MAX_ROLES_PER_RULE) }),
  z.strictObject({ groupDisplayName: groupText, roles: z.array(roleName).min(1).max(MAX_ROLES_PER_RULE) }),
]);

export const roleMappingSchema = z.strictObject({
  /** Evaluated in order; earlier rules take precedence. */
  rules: z.array(roleRuleSchema).max(MAX_ROLE_RULES),
  /** Roles every admitted person gets, after those of the rules (e.g. `member`). Default none. */
  defaultRoles: z.array(roleName).max(MAX_ROLES_PER_RULE).default([]),
});

export type RoleRule = z.output<typeof roleRuleSchema>;
export type RoleMappingInput = z.input<typeof roleMappingSchema>;
export type RoleMapping = z.output<typeof roleMappingSchema>;

/** A group as a session user carries it: the SCIM group's id and displayName. */
export interface SessionGroup {
  id: string;
  displayName: string;
}

/**
 * Each rule's group name folded (null for a rule by id), once per mapping object: the matching report asks for
 * the roles of every user it tallies, and folding a mapping's hundred names each time was half its tally's
 * time (audit 24). Mappings are not changed once parsed.
 */
const ruleNameCache = new WeakMap<RoleMapping, (string | null)[]>();
function foldedRuleNames(mapping: RoleMapping): (string | null)[] {
  let names = ruleNameCache.get(mapping);
  if (!names) ruleNameCache.set(mapping, (names = mapping.rules.map((rule) => ('groupId' in rule ? null : fold(rule.groupDisplayName)))));
  return names;
}

/**
 * The roles a person with `groups` gets under `mapping`: each rule that names one of their groups adds its
 * roles, in rule order, then the default roles; each role once, at its first (highest) place. No mapping:
 * no roles. Pure.
 */
export function rolesFor(mapping: RoleMapping | null, groups: readonly SessionGroup[]): string[] {
  if (!mapping) return [];
  const ids = new Set(groups.map((g) => g.id));
  const names = new Set(groups.map((g) => fold(g.displayName)));
  const roles = new Set<string>();
  const ruleNames = foldedRuleNames(mapping);
  mapping.rules.forEach((rule, i) => {
    const member = 'groupId' in rule ? ids.has(rule.groupId) : names.has(ruleNames[i]!);
    if (member) for (const role of rule.roles) roles.add(role);
  });
  for (const role of mapping.defaultRoles) roles.add(role);
  return [...roles];
}

/** The mapping a stored record holds; null when the record does not validate (written by hand or by a newer version). */
export function roleMappingOf(stored: Pick<StoredRoleMapping, 'json'> | null): RoleMapping | null {
  if (!stored) return null;
  try {
    const parsed = roleMappingSchema.safeParse(JSON.parse(stored.json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
