import { createHash } from 'node:crypto';

/**
 * The rank of an item in the deterministic sample: the first 64 bits of the SHA-256 of its source
 * name, as hex. The sample is the `k` items of lowest rank, so it depends only on which items the run
 * has, never on their order, and the same run always shows the same images.
 */
export function sampleRank(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 16);
}

/** Keeps the `k` items of lowest rank seen so far, sorted by rank (O(k) memory). */
export class LowestRanked<T extends { rank: string }> {
  readonly items: T[] = [];
  constructor(private readonly k: number) {}

  /** True when the item would be kept (call before building an expensive item). */
  wants(rank: string): boolean {
    if (this.k <= 0) return false;
    const last = this.items[this.items.length - 1];
    return this.items.length < this.k || (last !== undefined && rank < last.rank);
  }

  offer(item: T): void {
    if (!this.wants(item.rank)) return;
    let at = this.items.length;
    while (at > 0 && (this.items[at - 1] as T).rank > item.rank) at--;
    this.items.splice(at, 0, item);
    if (this.items.length > this.k) this.items.pop();
  }
}
