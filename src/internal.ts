/**
 * What the framework adapters, the dashboard and the tests need of a scim-sso instance but users must not
 * reach: the store, the raw SCIM handler, the login runtime. Kept off the public handle (src/sso.ts) in a
 * WeakMap keyed by the handle. This module is not in package.json `exports`: only scim-sso's own modules
 * (and its tests, which import from src/) can read it.
 */
import { ScimSsoConfigError } from './errors.js';
import type { Emit } from './events.js';
import type { ActivityRecorder } from './activity/recorder.js';
import type { LoginRuntime } from './guard/passport.js';
import type { ResolvedOptions } from './options.js';
import type { ScimHandler } from './scim/handler.js';
import type { ScimMountOptions } from './scim/mount.js';
import type { Store } from './store/store.js';

export interface Internals {
  readonly options: Readonly<ResolvedOptions>;
  readonly store: Store;
  readonly handleScim: ScimHandler;
  readonly runtime: LoginRuntime;
  readonly mount: ScimMountOptions;
  readonly emit: Emit;
  readonly onError: (error: unknown) => void;
  /** The activity log's buffer, or null when `activityLog: false` (src/activity/recorder.ts). */
  readonly activity: ActivityRecorder | null;
}

const registry = new WeakMap<object, Internals>();

/** Records the internals of a handle (the core's, and every framework handle built on it). */
export function registerInternals(handle: object, internals: Internals): void {
  registry.set(handle, internals);
}

/** The internals of a handle made by createScimSso or a framework entry's scimSso; throws for anything else. */
export function internalsOf(handle: unknown): Internals {
  const found = typeof handle === 'object' || typeof handle === 'function' ? registry.get(handle as object) : undefined;
  if (!found) throw new ScimSsoConfigError('invalid_argument', 'scim-sso: expected an instance made by createScimSso() or scimSso()');
  return found;
}
