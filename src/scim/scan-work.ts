/**
 * The work a scan does, measured in units (src/scim/limits.ts, docs/limits.md): values compared times the
 * filter's comparisons, characters compared, folded and parsed. A scan (list.ts) yields to the event loop
 * whenever a slice of SCAN_SLICE_WORK units is done, and is refused with 400 `tooMany` as soon as its work
 * passes the request's budget, or one resource's filter evaluation passes SCAN_RESOURCE_WORK; so what a
 * client sends, however long or many its values, never holds the event loop for long.
 *
 * A meter also folds (src/fold.ts) the stored strings a filter compares, each at most once per resource
 * however many comparisons read it: remembered by where the string sits (its object or array and key), not
 * by its text, so a lookup costs O(1) whatever the string's length.
 */
import { fold, foldCase, foldedPieces } from '../fold.js';
import { yieldToEventLoop } from '../event-loop.js';
import { LIST_YIELD_EVERY, SCAN_FOLD_CHARS, SCAN_RESOURCE_WORK, SCAN_SLICE_WORK } from './limits.js';

/** Thrown by {@link WorkMeter.charge} past a budget; the scan turns it into a 400 `tooMany`. */
export class WorkBudgetExceeded extends Error {
  constructor(
    /** `request`: the scan's budget; `resource`: one resource's filter evaluation. */
    readonly scope: 'request' | 'resource',
    readonly limit: number,
  ) {
    super(`scan work over the ${scope} budget of ${limit}`);
    this.name = 'WorkBudgetExceeded';
  }
}

/** Strings shorter than this are folded on each comparison (about as cheap as remembering them). */
const MEMO_MIN_LENGTH = 32;

interface Folded {
  source: string;
  cased?: string;
  trimmed?: string;
}

/** Counts of what meters did, for tests (work is asserted as counts, never as timings). */
export const scanWorkStats = { slices: 0, folds: 0 };

export class WorkMeter {
  /** Units charged in all, in this slice, and to the resource being evaluated. */
  total = 0;
  private slice = 0;
  private sliceResources = 0;
  private resource = 0;
  private memo = new WeakMap<object, Map<string | number, Folded>>();
  private lastHolder: object | undefined;
  private lastSlots: Map<string | number, Folded> | undefined;

  constructor(
    /** Units the whole scan may spend. */
    readonly budget: number,
    /** Units one resource's filter evaluation may spend. */
    readonly resourceBudget: number = SCAN_RESOURCE_WORK,
  ) {}

  /** Filter work on the current resource: counts toward the slice, the request and the resource. */
  charge(units: number): void {
    this.resource += units;
    if (this.resource > this.resourceBudget) throw new WorkBudgetExceeded('resource', this.resourceBudget);
    this.chargeScan(units);
  }

  /** Work of the scan itself (reading a resource): counts toward the slice and the request. */
  chargeScan(units: number): void {
    this.slice += units;
    this.total += units;
    if (this.total > this.budget) throw new WorkBudgetExceeded('request', this.budget);
  }

  /** Work that only makes the slice longer (group memberships, bounded by a budget of their own). */
  chargeSlice(units: number): void {
    this.slice += units;
  }

  /**
   * Before the next resource: yields if this slice did SCAN_SLICE_WORK units or read LIST_YIELD_EVERY
   * resources, and forgets the previous resource's folds.
   */
  async nextResource(): Promise<void> {
    if (this.resource > 0) {
      this.memo = new WeakMap();
      this.lastHolder = this.lastSlots = undefined;
    }
    this.resource = 0;
    if (++this.sliceResources > LIST_YIELD_EVERY || this.slice >= SCAN_SLICE_WORK) {
      this.slice = 0;
      this.sliceResources = 1;
      scanWorkStats.slices++;
      await yieldToEventLoop();
    }
  }

  /**
   * `value` folded ({@link fold}, or {@link foldCase} when `cased`), where `value` is `holder[key]` (key: the
   * attribute name lower-cased, or the index in an array): computed once per resource and charged by length.
   */
  fold(value: string, cased: boolean, holder: object | undefined, key: string | number): string {
    if (holder === undefined || value.length < MEMO_MIN_LENGTH) return this.folded(value, cased);
    // Consecutive values mostly sit in the same array or object: its slots are kept at hand.
    if (holder !== this.lastHolder) {
      let found = this.memo.get(holder);
      if (!found) this.memo.set(holder, (found = new Map()));
      this.lastHolder = holder;
      this.lastSlots = found;
    }
    const slots = this.lastSlots!;
    let entry = slots.get(key);
    // The same string object (compared by reference first): the check costs O(1) on a hit.
    if (!entry || entry.source !== value) slots.set(key, (entry = { source: value }));
    if (cased) return (entry.cased ??= this.folded(value, true));
    return (entry.trimmed ??= this.folded(value, false));
  }

  /**
   * Folds and charges the length, and the runs folded one by one (many protected characters cost more); a
   * short value's fold is part of the unit its comparison costs.
   */
  private folded(value: string, cased: boolean): string {
    scanWorkStats.folds++;
    const pieces = foldedPieces();
    const out = cased ? foldCase(value) : fold(value);
    const units = Math.floor(value.length / SCAN_FOLD_CHARS) + (foldedPieces() - pieces);
    if (units > 0) this.charge(units);
    return out;
  }
}
