/**
 * A Map with string keys that splits into shards once it is large, for the memory store's maps that grow
 * to a million entries (users, index values, reverse member entries, the event log's latest entries). V8
 * grows a Map by rehashing its whole table in one synchronous step each time it fills: one `set` at 2^20
 * string keys took 210 ms in a scratch loop, and in the memory store, where six per-user maps fill on the
 * same insertion, the POST of the 524,289th user held the event loop 3.2 s (audit 25). Past SPLIT_AT
 * entries the keys are spread over SHARDS maps by a hash of the key, so each rehash moves 1/SHARDS of the
 * table. Small maps stay one Map (a connection's maps cost nothing more until they grow).
 *
 * Iteration goes shard by shard once split: it keeps no insertion order. Use it only where none is needed.
 */

/**
 * Entries at which the map splits: one copy of this many entries, once. Small, because a connection's maps
 * fill together (a user enters four index maps, the users map and the event log's at the same insertion):
 * at 32,768 the six splits held one POST 114 ms; at 4,096 they cost a few ms.
 */
const SPLIT_AT = 4_096;
/** Shards after the split (a power of two): 16 entries each at the split, about 7,800 at 2,000,000 entries. */
const SHARDS = 256;

/** FNV-1a over the UTF-16 code units: cheap for ids and emails, and spreads UUIDs and shared domains alike. */
function shardOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (SHARDS - 1);
}

export class ShardedMap<V> {
  private single: Map<string, V> | null = new Map();
  private shards: Map<string, V>[] | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.mapOf(key).get(key);
  }

  has(key: string): boolean {
    return this.mapOf(key).has(key);
  }

  set(key: string, value: V): this {
    const map = this.mapOf(key);
    const before = map.size;
    map.set(key, value);
    if (map.size > before && ++this.count >= SPLIT_AT && this.single !== null) this.split();
    return this;
  }

  delete(key: string): boolean {
    const deleted = this.mapOf(key).delete(key);
    if (deleted) this.count--;
    return deleted;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const map of this.maps()) yield* map.entries();
  }

  *keys(): IterableIterator<string> {
    for (const map of this.maps()) yield* map.keys();
  }

  *values(): IterableIterator<V> {
    for (const map of this.maps()) yield* map.values();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  private mapOf(key: string): Map<string, V> {
    return this.single ?? this.shards![shardOf(key)]!;
  }

  private maps(): Map<string, V>[] {
    return this.single ? [this.single] : this.shards!;
  }

  private split(): void {
    const shards = Array.from({ length: SHARDS }, () => new Map<string, V>());
    for (const [key, value] of this.single!) shards[shardOf(key)]!.set(key, value);
    this.shards = shards;
    this.single = null;
  }
}
