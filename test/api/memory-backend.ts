/**
 * A working in-memory KvBackend for the API tests: a sorted map of keys with
 * Raft-like revisions (one index per write, a key's mod revision is the index
 * of the write that set it), plus switches that make it fail or stall the
 * way a real node can.
 */
import type {
  CallOptions,
  KeyValue,
  KvBackend,
  MemberStatus,
  NodeStatus,
  ReadConsistency,
} from '../../src/api/backend.js';
import { deadlineExceeded, failedPrecondition, notFound } from '../../src/errors.js';
import { Role } from '../../src/raft/index.js';

/** One call the backend received, so tests can check what the API passed down. */
export interface BackendCall {
  op:
    | 'put'
    | 'get'
    | 'delete'
    | 'range'
    | 'compareAndSwap'
    | 'memberList'
    | 'memberAdd'
    | 'memberRemove'
    | 'transferLeadership'
    | 'shutdown';
  /** Membership calls: the arguments and whether the call came forwarded. */
  args?: unknown[];
  forwarded?: boolean;
  deadlineMs: number;
  consistency?: ReadConsistency;
  limit?: number;
  startAfter?: Buffer | null;
}

/** The in-memory backend. */
export class MemoryBackend implements KvBackend {
  /** Stored pairs by the key's hex form (Map keys must be strings to compare by content). */
  private readonly data = new Map<string, KeyValue>();
  /** The index of the last write, like a Raft log's last applied index. */
  private index = 0;
  /** When set, every operation rejects with it (a DkvError or any other thrown value). */
  fault: unknown = null;
  /** When true, operations wait for their deadline and then reject DEADLINE_EXCEEDED, as a node without quorum does. */
  stall = false;
  /** When true, operations never settle: a backend that ignores its deadline. */
  hang = false;
  /** Every call, in order. */
  readonly calls: BackendCall[] = [];
  /** What status() reports. */
  nodeStatus: NodeStatus = {
    nodeId: 'a',
    role: Role.Leader,
    learner: false,
    term: 3,
    leaderId: 'a',
    commitIndex: 10,
    appliedIndex: 9,
    lastIndex: 11,
    firstIndex: 1,
    removed: false,
    members: [
      { id: 'a', address: '127.0.0.1:7070', learner: false, matchIndex: 11, nextIndex: 12, reachable: true },
      { id: 'b', address: '127.0.0.1:8080', learner: true, matchIndex: 0, nextIndex: 1, reachable: false },
    ],
  };

  /** Run an operation unless a switch says to fail or stall. */
  private async run<T>(call: BackendCall, operation: () => T): Promise<T> {
    this.calls.push(call);
    if (this.fault !== null) throw this.fault;
    if (this.hang) return new Promise<T>(() => {});
    if (this.stall) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, call.deadlineMs - Date.now())));
      throw deadlineExceeded('no quorum before the deadline');
    }
    if (Date.now() > call.deadlineMs) throw deadlineExceeded('deadline passed before the operation started');
    return operation();
  }

  /** The pairs in ascending byte order of their keys. */
  private sorted(): KeyValue[] {
    return [...this.data.values()].sort((a, b) => Buffer.compare(a.key, b.key));
  }

  put(key: Buffer, value: Buffer, deadlineMs: number) {
    return this.run({ op: 'put', deadlineMs }, () => {
      this.index++;
      this.data.set(key.toString('hex'), {
        key: Buffer.from(key),
        value: Buffer.from(value),
        modRevision: this.index,
      });
      return { revision: this.index };
    });
  }

  get(key: Buffer, consistency: ReadConsistency, deadlineMs: number) {
    return this.run({ op: 'get', deadlineMs, consistency }, () => ({
      kv: this.data.get(key.toString('hex')) ?? null,
      revision: this.index,
    }));
  }

  delete(key: Buffer, deadlineMs: number) {
    return this.run({ op: 'delete', deadlineMs }, () => {
      this.index++;
      return { deleted: this.data.delete(key.toString('hex')), revision: this.index };
    });
  }

  range(
    prefix: Buffer,
    startAfter: Buffer | null,
    limit: number,
    consistency: ReadConsistency,
    deadlineMs: number,
  ) {
    return this.run({ op: 'range', deadlineMs, consistency, limit, startAfter }, () => {
      const matching = this.sorted().filter(
        (kv) =>
          kv.key.subarray(0, prefix.length).equals(prefix) &&
          (startAfter === null || Buffer.compare(kv.key, startAfter) > 0),
      );
      return { kvs: matching.slice(0, limit), more: matching.length > limit, revision: this.index };
    });
  }

  compareAndSwap(key: Buffer, expected: Buffer | null, value: Buffer, deadlineMs: number) {
    return this.run({ op: 'compareAndSwap', deadlineMs }, () => {
      this.index++;
      const current = this.data.get(key.toString('hex'));
      const holds = expected === null ? current === undefined : current?.value.equals(expected) === true;
      if (!holds) return { swapped: false, revision: this.index, current: current ? current.value : null };
      this.data.set(key.toString('hex'), {
        key: Buffer.from(key),
        value: Buffer.from(value),
        modRevision: this.index,
      });
      return { swapped: true, revision: this.index, current: null };
    });
  }

  status(): NodeStatus {
    if (this.fault !== null) throw this.fault;
    return this.nodeStatus;
  }

  /** The cluster id MemberAdd reports. */
  clusterId = 'dkv-memory';
  /** How many times shutdown() was called. */
  shutdowns = 0;

  private members(): MemberStatus[] {
    return this.nodeStatus.members;
  }

  memberList(deadlineMs: number, opts?: CallOptions) {
    return this.run({ op: 'memberList', deadlineMs, forwarded: opts?.forwarded }, () => ({
      leaderId: this.nodeStatus.leaderId,
      members: this.members(),
    }));
  }

  memberAdd(id: string, address: string, learner: boolean, deadlineMs: number, opts?: CallOptions) {
    return this.run(
      { op: 'memberAdd', deadlineMs, args: [id, address, learner], forwarded: opts?.forwarded },
      () => {
        const existing = this.members().find((m) => m.id === id);
        if (existing && existing.address !== address) {
          throw failedPrecondition(`member ${id} already exists with address ${existing.address}`);
        }
        const member = existing ?? {
          id,
          address,
          learner: true,
          matchIndex: 0,
          nextIndex: this.nodeStatus.lastIndex + 1,
          reachable: false,
        };
        if (!existing) this.nodeStatus.members = [...this.members(), member];
        return { member, members: this.members(), clusterId: this.clusterId };
      },
    );
  }

  memberRemove(id: string, deadlineMs: number, opts?: CallOptions) {
    return this.run({ op: 'memberRemove', deadlineMs, args: [id], forwarded: opts?.forwarded }, () => {
      const member = this.members().find((m) => m.id === id);
      if (!member) throw notFound(`${id} is not a member of the cluster`);
      if (!member.learner && this.members().filter((m) => !m.learner).length === 1) {
        throw failedPrecondition(`${id} is the last voter; removing it would leave no cluster`);
      }
      this.nodeStatus.members = this.members().filter((m) => m.id !== id);
      return { members: this.members() };
    });
  }

  transferLeadership(targetId: string, deadlineMs: number, opts?: CallOptions) {
    return this.run(
      { op: 'transferLeadership', deadlineMs, args: [targetId], forwarded: opts?.forwarded },
      () => {
        const target = targetId === '' ? this.members().find((m) => m.id !== this.nodeStatus.leaderId) : null;
        const id = targetId === '' ? (target?.id ?? '') : targetId;
        if (!this.members().some((m) => m.id === id)) throw notFound(`${id} is not a member of the cluster`);
        this.nodeStatus.leaderId = id;
        this.nodeStatus.term++;
        return { leaderId: id, term: this.nodeStatus.term };
      },
    );
  }

  shutdown() {
    return this.run({ op: 'shutdown', deadlineMs: Number.MAX_SAFE_INTEGER }, () => {
      this.shutdowns++;
      return { nodeId: this.nodeStatus.nodeId };
    });
  }
}
