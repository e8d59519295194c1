/**
 * Snapshots of the built-in prototypes a hostile attribute name could reach (`__proto__.hasOwnProperty`,
 * `constructor.prototype`, …), to prove a request changed none of them (issue 10). A snapshot holds every
 * own property name with its descriptor (value identity, getter and setter identity, flags).
 */
type Snapshot = Map<string, PropertyDescriptor>;

const TARGETS: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];

function snapshotOf(target: object): Snapshot {
  const out: Snapshot = new Map();
  for (const key of Reflect.ownKeys(target)) out.set(String(key), Object.getOwnPropertyDescriptor(target, key)!);
  return out;
}

export type PrototypeSnapshot = { name: string; target: object; snapshot: Snapshot }[];

export function snapshotPrototypes(): PrototypeSnapshot {
  return TARGETS.map(([name, target]) => ({ name, target, snapshot: snapshotOf(target) }));
}

const FIELDS = ['value', 'get', 'set', 'writable', 'enumerable', 'configurable'] as const;

/** What changed since the snapshot (added, removed or redefined properties), as readable lines; [] when nothing. */
export function prototypeChanges(before: PrototypeSnapshot): string[] {
  const problems: string[] = [];
  for (const { name, target, snapshot } of before) {
    const now = snapshotOf(target);
    for (const [key, was] of snapshot) {
      const is = now.get(key);
      if (!is) problems.push(`${name}.${key} was deleted`);
      else if (FIELDS.some((f) => !Object.is(was[f], is[f]))) problems.push(`${name}.${key} was redefined`);
    }
    for (const key of now.keys()) if (!snapshot.has(key)) problems.push(`${name}.${key} was added`);
  }
  if (Object.getPrototypeOf({}) !== Object.prototype) problems.push('the prototype of {} changed');
  return problems;
}
