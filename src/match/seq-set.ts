/**
 * A set of creation numbers (the stores' `seq`) as bits: one bit per number up to the largest added, 12.5 KB
 * per 100,000 users. The matching report marks with it, per strategy, the SCIM users some SSO user matched,
 * to tell those nobody did without holding their ids.
 */
export class SeqSet {
  #words = new Uint32Array(1024);

  add(seq: number): void {
    const word = Math.floor(seq / 32);
    if (word >= this.#words.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.#words.length * 2));
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words[word] = this.#words[word]! | (1 << (seq % 32));
  }

  has(seq: number): boolean {
    const word = Math.floor(seq / 32);
    return word < this.#words.length && (this.#words[word]! & (1 << (seq % 32))) !== 0;
  }
}
