import type { Message, NodeId, Prng } from '../../src/raft/index.js';

const NOTHING_DUE: { delivered: Message[]; lost: Message[] } = { delivered: [], lost: [] };

/** How unreliable the simulated network is. */
export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  minDelay: number;
  maxDelay: number;
  /** Chance that a message takes a long detour (up to longDelay), which reorders it past later ones. */
  longDelayRate: number;
  longDelay: number;
}

/**
 * A seeded message network: every message gets a random delay (so messages
 * reorder), may be dropped or duplicated, and directed links can be cut to
 * make symmetric or one-way partitions.
 */
export class SimNetwork {
  private readonly queue = new Map<number, Message[]>();
  private readonly blocked = new Set<string>();
  inFlight = 0;

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
  ) {}

  /** Queue m for delivery; returns false if it was lost (cut link or drop). */
  send(m: Message, now: number): boolean {
    if (this.blocked.has(`${m.from}>${m.to}`)) return false;
    if (this.rng.chance(this.faults.dropRate)) return false;
    this.enqueue(m, now + this.delay());
    if (this.rng.chance(this.faults.duplicateRate)) this.enqueue(m, now + this.delay());
    return true;
  }

  private delay(): number {
    const f = this.faults;
    if (this.rng.chance(f.longDelayRate)) return f.minDelay + this.rng.int(f.longDelay);
    return f.minDelay + this.rng.int(f.maxDelay - f.minDelay + 1);
  }

  private enqueue(m: Message, at: number): void {
    let bucket = this.queue.get(at);
    if (!bucket) {
      bucket = [];
      this.queue.set(at, bucket);
    }
    bucket.push(m);
    this.inFlight++;
  }

  /** Messages due at `now`, in the order they were queued, split by whether a link cut since they left lost them. */
  due(now: number): { delivered: Message[]; lost: Message[] } {
    const bucket = this.queue.get(now);
    if (!bucket) return NOTHING_DUE;
    this.queue.delete(now);
    this.inFlight -= bucket.length;
    if (this.blocked.size === 0) return { delivered: bucket, lost: [] };
    const delivered: Message[] = [];
    const lost: Message[] = [];
    for (const m of bucket) (this.blocked.has(`${m.from}>${m.to}`) ? lost : delivered).push(m);
    return { delivered, lost };
  }

  /** Cut every link between the groups (both directions). */
  partition(groups: NodeId[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.blocked.add(`${a}>${b}`);
      }
    }
  }

  /** Cut the link from a to b only: a's messages are lost, b's still arrive. */
  cutOneWay(a: NodeId, b: NodeId): void {
    this.blocked.add(`${a}>${b}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  isPartitioned(): boolean {
    return this.blocked.size > 0;
  }
}
