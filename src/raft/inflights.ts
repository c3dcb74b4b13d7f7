/**
 * The appends a leader has sent to one follower and not yet seen
 * acknowledged, bounded in count and bytes: the flow-control window that
 * lets replication pipeline without flooding a slow follower.
 */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** Record an append whose last entry is index, of the given size. */
  add(index: number, bytes: number): void {
    this.lastIndexes.push(index);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Forget every append whose last index is <= index (it was acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && this.lastIndexes[n]! <= index) {
      this.bytes -= this.sizes[n]!;
      n++;
    }
    if (n > 0) {
      this.lastIndexes.splice(0, n);
      this.sizes.splice(0, n);
    }
  }

  /** Forget the oldest append: a heartbeat reply proves the follower is alive, so allow one more probe. */
  freeFirstOne(): void {
    if (this.lastIndexes.length === 0) return;
    this.freeLE(this.lastIndexes[0]!);
  }

  full(): boolean {
    return this.lastIndexes.length >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.lastIndexes.length;
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
