import { type Entry, type NodeId, type RawNode, Role } from '../../src/raft/index.js';

/** A cheap fingerprint of an entry's identity and content. */
function entryKey(e: Entry): string {
  let h = 2166136261;
  for (const b of e.data) h = Math.imul(h ^ b, 16777619);
  return `${e.term}/${e.type}/${e.data.byteLength}/${h >>> 0}`;
}

/**
 * The safety properties of Raft (Figure 3), checked while the simulation
 * runs: election safety, log matching, leader completeness and state
 * machine safety. Each violation is recorded with the time it was seen.
 */
export class SafetyCheckers {
  readonly violations: string[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly leadersChecked = new Set<string>();
  /**
   * index -> what some node applied there (applied implies committed), and an upper bound on the
   * term in which it was committed: the lowest term of any node when it applied it. A node learns
   * of a commit from a leader of that term or later, so this never underestimates.
   */
  private readonly committed = new Map<number, { fp: string; commitTerm: number }>();
  private maxCommitted = 0;
  elections = 0;

  private fail(now: number, what: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${now}: ${what}`);
  }

  /** Election safety (§5.2) and leader completeness (§5.4): called whenever a node may have become leader. */
  observeRole(now: number, node: RawNode): void {
    const r = node.raft;
    if (r.role !== Role.Leader) return;
    const key = `${r.id}@${r.term}`;
    if (this.leadersChecked.has(key)) return;
    this.leadersChecked.add(key);
    this.elections++;
    const prev = this.leaderOfTerm.get(r.term);
    if (prev !== undefined && prev !== r.id) {
      this.fail(now, `election safety: ${prev} and ${r.id} both leaders of term ${r.term}`);
    }
    this.leaderOfTerm.set(r.term, r.id);
    // Leader completeness: every entry committed in an earlier term must be in the new leader's log.
    // (A stale leader of a lower term may lack entries committed later: it cannot commit anything.)
    const first = r.log.firstIndex();
    const last = r.log.lastIndex();
    for (const [index, c] of this.committed) {
      if (c.commitTerm >= r.term || index < first) continue; // later commit, or covered by the leader's snapshot
      if (index > last) {
        this.fail(
          now,
          `leader completeness: ${r.id} leads term ${r.term} with last index ${last} < index ${index} committed by term ${c.commitTerm}`,
        );
        return;
      }
      const e = r.log.slice(index, index + 1, Number.MAX_SAFE_INTEGER)[0]!;
      if (entryKey(e) !== c.fp) {
        this.fail(
          now,
          `leader completeness: ${r.id} (term ${r.term}) holds a different entry at index ${index}, committed by term ${c.commitTerm}`,
        );
        return;
      }
    }
  }

  /** State machine safety (§5.4.3): no two nodes apply different entries at one index; each applies in order. */
  observeApply(now: number, id: NodeId, e: Entry, nodeTerm: number): void {
    const fp = entryKey(e);
    const prev = this.committed.get(e.index);
    if (prev === undefined) {
      this.committed.set(e.index, { fp, commitTerm: nodeTerm });
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
    } else if (prev.fp !== fp) {
      this.fail(now, `state machine safety: ${id} applied a different entry at index ${e.index}`);
    } else if (nodeTerm < prev.commitTerm) {
      prev.commitTerm = nodeTerm;
    }
  }

  /** Log matching (§5.3): if two logs hold an entry with the same index and term, they agree up to it. */
  checkLogMatching(now: number, nodes: RawNode[]): void {
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const a = nodes[i]!.raft.log;
        const b = nodes[j]!.raft.log;
        const lo = Math.max(a.firstIndex(), b.firstIndex());
        const hi = Math.min(a.lastIndex(), b.lastIndex());
        if (lo > hi) continue;
        const ea = a.slice(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        const eb = b.slice(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        let matchAt = -1;
        for (let k = ea.length - 1; k >= 0; k--) {
          if (ea[k]!.term === eb[k]!.term) {
            matchAt = k;
            break;
          }
        }
        for (let k = 0; k <= matchAt; k++) {
          if (entryKey(ea[k]!) !== entryKey(eb[k]!)) {
            this.fail(
              now,
              `log matching: ${nodes[i]!.raft.id} and ${nodes[j]!.raft.id} agree on term at ${lo + matchAt} but differ at ${lo + k}`,
            );
            return;
          }
        }
      }
    }
  }

  /** The highest index known committed (some node applied it). */
  highestCommitted(): number {
    return this.maxCommitted;
  }
}
