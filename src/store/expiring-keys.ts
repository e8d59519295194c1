/**
 * A bounded map of keys that expire (the memory store's SAML request and assertion caches,
 * src/store/memory-saml-cache.ts). Every operation is amortised O(log n) whatever the cache holds: the entries
 * also sit in a min-heap by expiry, so sweeping the expired ones and finding the next to evict never scans
 * the map (each entry is swept once, by whichever call finds it expired).
 * (A full sweep per add made each SAML login start on a full cache cost 1.2 ms at 100,000 entries, and
 * anybody can start logins.) Heap items of deleted or replaced entries are skipped when they surface, and the
 * heap is rebuilt from the map when they outnumber the live ones.
 */

interface Entry {
  key: string;
  value: string;
  expiry: number;
  /** Insertion order: among equal expiries, the oldest entry comes first. */
  seq: number;
}

const before = (a: Entry, b: Entry) => a.expiry < b.expiry || (a.expiry === b.expiry && a.seq < b.seq);

export class ExpiringKeys {
  private readonly entries = new Map<string, Entry>();
  private heap: Entry[] = [];
  private seq = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): string | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiry > this.now()) return entry.value;
    this.delete(key);
    return null;
  }

  /**
   * Adds `key` (replacing its entry). The expired entries go first, on every add (each once: amortised O(log n)),
   * so the cache holds what is live, not what a busy hour left until it fills (a soak audit, 2026-12-07: every
   * SAML login's assertion id stayed until its customer's share was full). When it is still full, `evict`
   * drops the entry that expires first (the oldest, when every entry has the same lifetime), else the add is
   * refused (false).
   */
  add(key: string, value: string, ttlMs: number, evict: boolean): boolean {
    const now = this.now();
    let first = this.peek();
    for (; first !== undefined && first.expiry <= now; first = this.peek()) this.delete(this.pop()!.key);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      if (!evict) return false;
      if (first !== undefined) this.delete(this.pop()!.key);
    }
    this.delete(key);
    const entry: Entry = { key, value, expiry: this.now() + ttlMs, seq: this.seq++ };
    this.entries.set(key, entry);
    this.push(entry);
    return true;
  }

  delete(key: string): void {
    if (!this.entries.delete(key)) return;
    // Stale heap items: rebuild once they outnumber the live entries (amortised O(1) per delete).
    if (this.heap.length > 2 * this.entries.size + 64) {
      this.heap = [];
      for (const entry of this.entries.values()) this.push(entry);
    }
  }

  /** The live entry that expires first, dropping stale heap items on the way. */
  private peek(): Entry | undefined {
    while (this.heap.length > 0 && this.entries.get(this.heap[0]!.key) !== this.heap[0]) this.pop();
    return this.heap[0];
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const child = left + 1 < heap.length && before(heap[left + 1]!, heap[left]!) ? left + 1 : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
