/**
 * One board's rank blocks held in memory: their low keys in order and a Fenwick tree over their
 * counts, so that finding a key's block is a binary search and the number of entries in the
 * blocks before it is O(log blocks), where SQL had to seek the block and sum every count before
 * it (1,341 rows for a million members). `board_blocks` stays the record; this is a copy that
 * {@link BoardBlocks} keeps in step with it and drops whenever it may differ.
 */
export class BlockIndex {
  #los: Buffer[];
  #counts: number[];
  /** Fenwick tree: `#tree[i]` sums counts `(i - (i & -i), i]` in 1-based positions. */
  #tree: Float64Array;

  constructor(los: Buffer[], counts: number[]) {
    this.#los = los;
    this.#counts = counts;
    this.#tree = new Float64Array(0);
    this.#rebuild();
  }

  get size(): number {
    return this.#los.length;
  }

  lo(index: number): Buffer {
    return this.#los[index] as Buffer;
  }

  count(index: number): number {
    return this.#counts[index] as number;
  }

  /** The index of the block covering `key`: the last whose `lo` is at or below it (the first block's is empty). */
  find(key: Buffer): number {
    let low = 0;
    let high = this.#los.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (Buffer.compare(this.#los[middle] as Buffer, key) <= 0) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Entries in the blocks before block `index`. */
  before(index: number): number {
    let sum = 0;
    for (let i = index; i > 0; i -= i & -i) sum += this.#tree[i] as number;
    return sum;
  }

  /** The block holding 0-based position `offset`, and the position of its first entry; `undefined` past the end. */
  locate(offset: number): { readonly index: number; readonly first: number } | undefined {
    // Descends the tree: the largest prefix of blocks whose total stays at or below `offset`.
    let position = 0;
    let passed = 0;
    for (let step = highestBit(this.#los.length); step > 0; step >>>= 1) {
      const next = position + step;
      if (next <= this.#los.length && passed + (this.#tree[next] as number) <= offset) {
        position = next;
        passed += this.#tree[next] as number;
      }
    }
    return position < this.#los.length ? { index: position, first: passed } : undefined;
  }

  adjust(index: number, delta: number): void {
    this.#counts[index] = (this.#counts[index] as number) + delta;
    for (let i = index + 1; i <= this.#los.length; i += i & -i)
      this.#tree[i] = (this.#tree[i] as number) + delta;
  }

  /** Sets block `index`'s count and inserts a new block with `lo` and `count` after it. */
  split(index: number, count: number, lo: Buffer, newCount: number): void {
    this.#counts[index] = count;
    this.#los.splice(index + 1, 0, lo);
    this.#counts.splice(index + 1, 0, newCount);
    this.#rebuild();
  }

  /** Removes block `index`, giving its count to block `into` (which must be a neighbour). */
  merge(index: number, into: number): void {
    this.#counts[into] = (this.#counts[into] as number) + (this.#counts[index] as number);
    this.#los.splice(index, 1);
    this.#counts.splice(index, 1);
    this.#rebuild();
  }

  #rebuild(): void {
    const size = this.#los.length;
    const tree = new Float64Array(size + 1);
    for (let i = 1; i <= size; i++) {
      tree[i] = (tree[i] as number) + (this.#counts[i - 1] as number);
      const parent = i + (i & -i);
      if (parent <= size) tree[parent] = (tree[parent] as number) + (tree[i] as number);
    }
    this.#tree = tree;
  }
}

function highestBit(value: number): number {
  let bit = 1;
  while (bit * 2 <= value) bit *= 2;
  return value === 0 ? 0 : bit;
}
