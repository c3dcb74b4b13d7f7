import { type Entry, EntryType } from '../../src/raft/index.js';

/** A client write as the simulator encodes it in a log entry. */
export interface SimCommand {
  /** The client operation's id: lets every node recognise a duplicate (a re-sent proposal). */
  op: number;
  key: string;
  value: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encode a client write as entry data. */
export function encodeCommand(c: SimCommand): Uint8Array {
  return encoder.encode(JSON.stringify(c));
}

/** Decode entry data written by encodeCommand. */
export function decodeCommand(data: Uint8Array): SimCommand {
  return JSON.parse(decoder.decode(data)) as SimCommand;
}

/**
 * The simulated nodes' state machine: a string map. It ignores a command
 * whose op id it has applied before (a proposal the network duplicated), as
 * a real client session table would; every node sees the same log, so every
 * node makes the same choice.
 */
export class KvStateMachine {
  kv = new Map<string, string>();
  applied = 0;
  seen = new Set<number>();

  /** Apply one committed entry; returns the op id if it was a client write applied for the first time. */
  apply(e: Entry): number | null {
    if (e.index !== this.applied + 1) {
      throw new Error(`state machine: applying index ${e.index} after ${this.applied} (gap or repeat)`);
    }
    this.applied = e.index;
    if (e.type !== EntryType.Normal || e.data.byteLength === 0) return null;
    const c = decodeCommand(e.data);
    if (this.seen.has(c.op)) return null;
    this.seen.add(c.op);
    this.kv.set(c.key, c.value);
    return c.op;
  }

  /** Serialize the whole state (what a snapshot carries). */
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ kv: [...this.kv], applied: this.applied, seen: [...this.seen] }));
  }

  /** Replace the state with a snapshot's. */
  restore(data: Uint8Array, index: number): void {
    if (data.byteLength === 0) {
      this.kv = new Map();
      this.seen = new Set();
    } else {
      const s = JSON.parse(decoder.decode(data)) as {
        kv: [string, string][];
        applied: number;
        seen: number[];
      };
      if (s.applied !== index)
        throw new Error(`state machine: snapshot data is at ${s.applied}, metadata says ${index}`);
      this.kv = new Map(s.kv);
      this.seen = new Set(s.seen);
    }
    this.applied = index;
  }

  /** A stable digest of the contents, to compare nodes. */
  digest(): string {
    return JSON.stringify([...this.kv].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }
}
