/**
 * An ordered collection with positional access, for the memory store's sort indexes and creation order:
 * insert, delete and the item at a rank in O(log n), a run of k items from a rank in O(log n + k). A sorted
 * array would need an O(n) splice per write (a memmove of megabytes at a million items); this is a B+tree
 * whose inner nodes keep each child's item count (for ranks) and last item (to route a search).
 */

/** Most items in a leaf, and most children of an inner node. */
const MAX = 64;
/** A node left with fewer than this after a delete is merged with a neighbour. */
const MIN = MAX / 4;

interface Leaf<T> {
  leaf: true;
  items: T[];
}

interface Inner<T> {
  leaf: false;
  children: Node<T>[];
  /** counts[i]: how many items children[i] holds. */
  counts: number[];
  /** lasts[i]: the last item of children[i]. */
  lasts: T[];
}

type Node<T> = Leaf<T> | Inner<T>;

const widthOf = <T>(node: Node<T>): number => (node.leaf ? node.items.length : node.children.length);
const countOf = <T>(node: Node<T>): number => (node.leaf ? node.items.length : node.counts.reduce((a, b) => a + b, 0));
const lastOf = <T>(node: Node<T>): T => (node.leaf ? node.items[node.items.length - 1]! : node.lasts[node.lasts.length - 1]!);

/** An inner node over these children. */
function innerOf<T>(children: Node<T>[]): Inner<T> {
  return { leaf: false, children, counts: children.map(countOf), lasts: children.map(lastOf) };
}

/** Splits an over-full node in two halves; answers the right half (the node keeps the left). */
function split<T>(node: Node<T>): Node<T> {
  const half = Math.ceil(widthOf(node) / 2);
  if (node.leaf) return { leaf: true, items: node.items.splice(half) };
  const right = innerOf(node.children.splice(half));
  node.counts.splice(half);
  node.lasts.splice(half);
  return right;
}

export class OrderedIndex<T> {
  #root: Node<T> = { leaf: true, items: [] };
  #size = 0;

  /** `compare` orders the items; items comparing equal keep their insertion order. */
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.#size;
  }

  insert(item: T): void {
    const right = this.#insert(this.#root, item);
    if (right) this.#root = innerOf([this.#root, right]);
    this.#size++;
  }

  /** Removes one item comparing equal to `item`; false when there is none. */
  delete(item: T): boolean {
    if (!this.#delete(this.#root, item)) return false;
    this.#size--;
    while (!this.#root.leaf && this.#root.children.length <= 1) this.#root = this.#root.children[0] ?? { leaf: true, items: [] };
    return true;
  }

  /** How many items compare at or before `item`: the rank of the first item after it. O(log n). */
  countUpTo(item: T): number {
    let node = this.#root;
    let rank = 0;
    while (!node.leaf) {
      const i = this.#after(node.lasts, item); // the first child whose last item comes after `item`
      for (let j = 0; j < i; j++) rank += node.counts[j]!;
      if (i === node.children.length) return rank;
      node = node.children[i]!;
    }
    return rank + this.#after(node.items, item);
  }

  /** The item at 0-based `rank`, or undefined past the end. */
  at(rank: number): T | undefined {
    return this.slice(rank, rank + 1)[0];
  }

  /** The items at ranks `from` (inclusive) to `to` (exclusive), in order. */
  slice(from: number, to: number): T[] {
    const out: T[] = [];
    const start = Math.max(0, from);
    const end = Math.min(this.#size, to);
    if (start < end) this.#collect(this.#root, start, end, out);
    return out;
  }

  /** Inserts into the subtree; answers the new right sibling when `node` had to split. */
  #insert(node: Node<T>, item: T): Node<T> | null {
    if (node.leaf) {
      node.items.splice(this.#after(node.items, item), 0, item);
    } else {
      const i = Math.min(this.#after(node.lasts, item), node.children.length - 1);
      const child = node.children[i]!;
      const right = this.#insert(child, item);
      node.counts[i]! += 1;
      node.lasts[i] = lastOf(child);
      if (right) {
        node.counts[i] = countOf(child);
        node.children.splice(i + 1, 0, right);
        node.counts.splice(i + 1, 0, countOf(right));
        node.lasts.splice(i + 1, 0, lastOf(right));
      }
    }
    return widthOf(node) > MAX ? split(node) : null;
  }

  #delete(node: Node<T>, item: T): boolean {
    if (node.leaf) {
      const at = this.#before(node.items, item);
      if (at === node.items.length || this.compare(node.items[at]!, item) !== 0) return false;
      node.items.splice(at, 1);
      return true;
    }
    // The first child whose last item is not before `item` holds the first item equal to it, if any.
    const i = this.#before(node.lasts, item);
    const child = node.children[i];
    if (!child || !this.#delete(child, item)) return false;
    node.counts[i]! -= 1;
    if (node.counts[i] === 0) {
      node.children.splice(i, 1);
      node.counts.splice(i, 1);
      node.lasts.splice(i, 1);
    } else {
      node.lasts[i] = lastOf(child);
      if (widthOf(child) < MIN && node.children.length > 1) this.#merge(node, i === 0 ? 0 : i - 1);
    }
    return true;
  }

  /** Merges children i and i + 1 of `node` (both the same height), splitting again if that is too wide. */
  #merge(node: Inner<T>, i: number): void {
    const left = node.children[i]!;
    const right = node.children[i + 1]!;
    if (left.leaf && right.leaf) left.items.push(...right.items);
    else if (!left.leaf && !right.leaf) {
      left.children.push(...right.children);
      left.counts.push(...right.counts);
      left.lasts.push(...right.lasts);
    }
    const parts = widthOf(left) > MAX ? [left, split(left)] : [left];
    node.children.splice(i, 2, ...parts);
    node.counts.splice(i, 2, ...parts.map(countOf));
    node.lasts.splice(i, 2, ...parts.map(lastOf));
  }

  #collect(node: Node<T>, from: number, to: number, out: T[]): void {
    if (node.leaf) {
      for (let i = from; i < to; i++) out.push(node.items[i]!);
      return;
    }
    for (let i = 0; i < node.children.length && to > 0; i++) {
      const count = node.counts[i]!;
      if (from < count) this.#collect(node.children[i]!, Math.max(0, from), Math.min(to, count), out);
      from -= count;
      to -= count;
    }
  }

  /** The first index of `sorted` whose item comes after `item` (binary search). */
  #after(sorted: T[], item: T): number {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(sorted[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index of `sorted` whose item is not before `item` (binary search). */
  #before(sorted: T[], item: T): number {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(sorted[mid]!, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
