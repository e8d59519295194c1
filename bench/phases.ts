/**
 * The load phases run against each server: what each request is, and how its answer is checked. A phase
 * builder gets the server and what the load generator knows of its users, and returns a `next()` for
 * runLoad plus, for writes, a check of the final state after the phase.
 */
import type { Req } from './load.js';
import { entraActivePatch, oktaPut, oktaUser, type KnownUser } from './users.js';

export interface Target {
  /** `limit`, `scim-redis` or `scim-memory`. */
  name: string;
  baseUrl: string;
  token: string;
}

export interface Dataset {
  /** The users the connection holds, as the load generator knows them. */
  users: KnownUser[];
  /** Ids in the order a full walk returns them (see referenceWalk). */
  order: string[];
  /** Ids of users created during the run, for the delete phase. */
  created: string[];
}

export interface Phase {
  name: string;
  next: () => Req;
  /** Fixed request count instead of a duration (writes that consume their targets). */
  amount?: number;
  /** Runs after the phase: returns what is wrong with the stored state, or null. */
  verify?: () => Promise<string | null>;
}

interface ListBody {
  totalResults: number;
  itemsPerPage?: number;
  Resources: { id: string; active?: boolean; displayName?: string }[];
}

const parse = <T>(body: string): T | null => {
  try {
    return JSON.parse(body) as T;
  } catch {
    return null;
  }
};
const filterPath = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;

/** A lookup answering exactly `expected` (an id) or nothing. */
function lookupCheck(expected: string | null) {
  return (status: number, body: string): string | null => {
    if (status !== 200) return `status ${status}`;
    const list = parse<ListBody>(body);
    if (!list) return 'body is not JSON';
    const want = expected === null ? 0 : 1;
    if (list.totalResults !== want || list.Resources?.length !== want) return `totalResults ${list.totalResults}, expected ${want}`;
    if (expected !== null && list.Resources[0]!.id !== expected) return `found ${list.Resources[0]!.id}, expected ${expected}`;
    return null;
  };
}

const cycle = <T>(items: T[]) => {
  let i = 0;
  return () => items[i++ % items.length]!;
};

export function lookupUserName(data: Dataset): Phase {
  const pick = cycle(data.users);
  return {
    name: 'lookup userName (present)',
    next: () => {
      const u = pick();
      return { method: 'GET', path: filterPath(`userName eq "${u.userName}"`), check: lookupCheck(u.id) };
    },
  };
}

export function lookupAbsent(): Phase {
  let n = 0;
  return {
    name: 'lookup userName (absent)',
    next: () => ({ method: 'GET', path: filterPath(`userName eq "nobody${n++}@example.com"`), check: lookupCheck(null) }),
  };
}

export function lookupExternalId(data: Dataset): Phase {
  const pick = cycle(data.users);
  return {
    name: 'lookup externalId',
    next: () => {
      const u = pick();
      return { method: 'GET', path: filterPath(`externalId eq "${u.externalId}"`), check: lookupCheck(u.id) };
    },
  };
}

export function getById(data: Dataset): Phase {
  const pick = cycle(data.users);
  return {
    name: 'GET by id',
    next: () => {
      const u = pick();
      return {
        method: 'GET',
        path: `/Users/${u.id}`,
        check: (status, body) => {
          if (status !== 200) return `status ${status}`;
          const user = parse<{ id: string; userName: string }>(body);
          return user?.id === u.id && user.userName === u.userName ? null : 'wrong user';
        },
      };
    },
  };
}

/** Pages of `count` in creation order: startIndex 1, 1+count, … over the whole connection, again and again. */
export function pageWalk(data: Dataset, count = 100): Phase {
  const starts = Array.from({ length: Math.ceil(data.order.length / count) }, (_, i) => 1 + i * count);
  return pagePhase(`page walk (count=${count})`, data, starts, count);
}

/**
 * Pages of `count` spread over the whole connection: every page start, visited in a stride order (page i,
 * i + stride, …, stride coprime to the number of pages) so that consecutive requests land far apart and a
 * short run samples the whole range. On a small connection this is every page, like pageWalk; on 1,000,000
 * users (10,000 pages) a few seconds visit a few thousand pages from everywhere in it.
 */
export function pageSpread(data: Dataset, count = 100): Phase {
  const pages = Math.ceil(data.order.length / count);
  let stride = Math.max(1, Math.floor(pages * 0.618));
  while (gcd(stride, pages) !== 1) stride++;
  const starts = Array.from({ length: pages }, (_, i) => 1 + ((i * stride) % pages) * count);
  return pagePhase(`page spread (count=${count})`, data, starts, count);
}

/** The last `window` users' pages: startIndex near the end, the deepest offsets the connection has. */
export function deepPages(data: Dataset, count = 100, window = 1000): Phase {
  const total = data.order.length;
  const first = Math.max(1, total - window + 1);
  const starts = Array.from({ length: Math.ceil((total - first + 1) / count) }, (_, i) => first + i * count);
  return pagePhase(`deep page (last ${window})`, data, starts, count);
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** GETs the pages at `starts` in turn, again and again; each must hold the reference walk's ids at its place. */
function pagePhase(name: string, data: Dataset, starts: number[], count: number): Phase {
  const total = data.order.length;
  const pick = cycle(starts);
  return {
    name,
    next: () => {
      const start = pick();
      const want = data.order.slice(start - 1, start - 1 + count);
      return {
        method: 'GET',
        path: `/Users?startIndex=${start}&count=${count}`,
        check: (status, body) => {
          if (status !== 200) return `status ${status}`;
          const list = parse<ListBody>(body);
          if (!list) return 'body is not JSON';
          if (list.totalResults !== total) return `totalResults ${list.totalResults}, expected ${total}`;
          if (list.Resources.length !== want.length) return `${list.Resources.length} items, expected ${want.length}`;
          for (let i = 0; i < want.length; i++) if (list.Resources[i]!.id !== want[i]) return `item ${i} out of order`;
          return null;
        },
      };
    },
  };
}

/** POST /Users with fresh userNames; created ids go to `data.created` (the delete phase's targets). */
export function create(data: Dataset, tag: string): Phase {
  let n = 0;
  return {
    name: 'POST /Users',
    next: () => {
      const body = oktaUser(tag, n++);
      return {
        method: 'POST',
        path: '/Users',
        body: JSON.stringify(body),
        check: (status, text) => {
          if (status !== 201) return `status ${status}`;
          const user = parse<{ id: string; userName: string }>(text);
          if (!user || typeof user.id !== 'string' || user.userName !== body.userName) return 'wrong user created';
          data.created.push(user.id);
          return null;
        },
      };
    },
  };
}

/** GETs `ids` one by one (after a phase, unmeasured) and checks each. */
function verifyEach(target: Target, ids: string[], check: (status: number, body: string, id: string) => string | null) {
  return async (): Promise<string | null> => {
    for (const id of ids) {
      const response = await fetch(`${target.baseUrl}/Users/${id}`, { headers: { authorization: `Bearer ${target.token}` } });
      const problem = check(response.status, await response.text(), id);
      if (problem) return `after the phase, ${id}: ${problem}`;
    }
    return null;
  };
}

/** Entra's PATCH of `active`: alternating False/True per pass over the users, so every PATCH changes the user. */
export function patchActive(data: Dataset, target: Target): Phase {
  let n = 0;
  const last = new Map<string, boolean>();
  const sent = new Map<string, boolean>();
  return {
    name: 'PATCH active (Entra)',
    next: () => {
      const i = n++;
      const u = data.users[i % data.users.length]!;
      const active = Math.floor(i / data.users.length) % 2 === 1;
      sent.set(u.id, active);
      return {
        method: 'PATCH',
        path: `/Users/${u.id}`,
        body: JSON.stringify(entraActivePatch(active)),
        check: (status) => {
          if (status !== 204 && status !== 200) return `status ${status}`;
          last.set(u.id, active);
          return null;
        },
      };
    },
    verify: () =>
      verifyEach(target, [...last.keys()].slice(0, 50), (status, body, id) => {
        // The last answered value, or one still in flight when the phase stopped.
        const user = parse<{ active: unknown }>(body);
        const ok = status === 200 && (user?.active === last.get(id) || user?.active === sent.get(id));
        return ok ? null : `active is ${String(user?.active)}, expected ${last.get(id)}`;
      })(),
  };
}

/** Okta's PUT: the whole user with a new displayName. */
export function put(data: Dataset, tag: string, target: Target): Phase {
  let n = 0;
  const last = new Map<string, string>();
  const sent = new Map<string, string>();
  return {
    name: 'PUT (Okta)',
    next: () => {
      const i = n++;
      const index = i % data.users.length;
      const u = data.users[index]!;
      const body = oktaPut(tag, index, u.id, i);
      sent.set(u.id, body.displayName as string);
      return {
        method: 'PUT',
        path: `/Users/${u.id}`,
        body: JSON.stringify(body),
        check: (status, text) => {
          if (status !== 200) return `status ${status}`;
          const user = parse<{ id: string; displayName: string }>(text);
          if (user?.id !== u.id || user.displayName !== body.displayName) return 'wrong user in the answer';
          last.set(u.id, body.displayName as string);
          return null;
        },
      };
    },
    verify: () =>
      verifyEach(target, [...last.keys()].slice(0, 50), (status, body, id) => {
        const user = parse<{ displayName: unknown }>(body);
        const ok = status === 200 && (user?.displayName === last.get(id) || user?.displayName === sent.get(id));
        return ok ? null : `displayName is ${String(user?.displayName)}, expected ${last.get(id)}`;
      })(),
  };
}

/** DELETE, each target once: `amount` requests over the created users, then the preloaded ones. */
export function remove(data: Dataset, target: Target, amount: number): Phase {
  const ids = [...data.created, ...data.users.map((u) => u.id)];
  let n = 0;
  const deleted: string[] = [];
  return {
    name: 'DELETE',
    amount: Math.max(1, Math.min(amount, ids.length - 64)),
    next: () => {
      const id = ids[n++];
      if (id === undefined) return { method: 'DELETE', path: '/Users/none', check: () => 'ran out of users to delete' };
      return {
        method: 'DELETE',
        path: `/Users/${id}`,
        check: (status) => {
          if (status !== 204) return `status ${status}`;
          deleted.push(id);
          return null;
        },
      };
    },
    verify: () => verifyEach(target, deleted.slice(-50), (status) => (status === 404 ? null : `status ${status} after DELETE`))(),
  };
}

/**
 * A full walk, unmeasured, before the paging phase: the reference order. It must hold every known user
 * exactly once (creation order within a parallel load batch is the server's to choose).
 */
export async function referenceWalk(target: Target, users: KnownUser[], count = 100): Promise<string[]> {
  const order: string[] = [];
  for (let start = 1; start <= users.length; start += count) {
    const response = await fetch(`${target.baseUrl}/Users?startIndex=${start}&count=${count}`, {
      headers: { authorization: `Bearer ${target.token}` },
    });
    const list = parse<ListBody>(await response.text());
    if (response.status !== 200 || !list) throw new Error(`${target.name}: reference walk answered ${response.status}`);
    order.push(...list.Resources.map((r) => r.id));
  }
  const known = new Set(users.map((u) => u.id));
  const seen = new Set(order);
  if (order.length !== users.length || seen.size !== order.length || [...seen].some((id) => !known.has(id))) {
    throw new Error(
      `${target.name}: a full walk does not return every user exactly once (${order.length} items, ${seen.size} distinct, ${users.length} users)`,
    );
  }
  return order;
}
