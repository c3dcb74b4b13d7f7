/**
 * The API's operations, independent of protocol: a validated request message
 * in, the backend called within the deadline, a response message out. The
 * gRPC services and the REST routes both call these, so the two protocols
 * cannot drift apart.
 */
import { notFound } from '../errors.js';
import {
  type Member,
  type MemberAddRequest,
  type MemberAddResponse,
  type MemberListResponse,
  type MemberRemoveRequest,
  type MemberRemoveResponse,
  Role as ProtoRole,
  type ShutdownResponse,
  type StatusResponse,
  type TransferLeadershipRequest,
  type TransferLeadershipResponse,
} from '../gen/dkv/v0/cluster.js';
import type {
  CompareAndSwapRequest,
  CompareAndSwapResponse,
  DeleteRequest,
  DeleteResponse,
  GetRequest,
  GetResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
} from '../gen/dkv/v0/kvstore.js';
import { Role } from '../raft/index.js';
import type { ApiBackend, CallOptions, MemberStatus, NodeStatus } from './backend.js';
import { encodeBase64 } from './base64.js';
import { withDeadline } from './deadline.js';
import { checkMemberAddress, checkMemberId } from './member-validate.js';
import {
  casExpectation,
  checkKey,
  checkPrefix,
  checkValue,
  DEFAULT_LIMITS,
  decodePageToken,
  encodePageToken,
  rangeLimit,
  type SizeLimits,
  toReadConsistency,
} from './validate.js';

/** The KVStore and ClusterService operations; `deadlineMs` is an absolute Date.now() time. */
export interface KvService {
  put(request: PutRequest, deadlineMs: number): Promise<PutResponse>;
  get(request: GetRequest, deadlineMs: number): Promise<GetResponse>;
  delete(request: DeleteRequest, deadlineMs: number): Promise<DeleteResponse>;
  range(request: RangeRequest, deadlineMs: number): Promise<RangeResponse>;
  compareAndSwap(request: CompareAndSwapRequest, deadlineMs: number): Promise<CompareAndSwapResponse>;
  status(): Promise<StatusResponse>;
  memberList(deadlineMs: number, opts?: CallOptions): Promise<MemberListResponse>;
  memberAdd(request: MemberAddRequest, deadlineMs: number, opts?: CallOptions): Promise<MemberAddResponse>;
  memberRemove(
    request: MemberRemoveRequest,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<MemberRemoveResponse>;
  transferLeadership(
    request: TransferLeadershipRequest,
    deadlineMs: number,
    opts?: CallOptions,
  ): Promise<TransferLeadershipResponse>;
  shutdown(): Promise<ShutdownResponse>;
}

const EMPTY = Buffer.alloc(0);

/** The proto Role for the node's Raft role (a learner reports LEARNER whatever its core role). */
function protoRole(status: NodeStatus): ProtoRole {
  if (status.learner) return ProtoRole.LEARNER;
  switch (status.role) {
    case Role.Leader:
      return ProtoRole.LEADER;
    case Role.Candidate:
      return ProtoRole.CANDIDATE;
    case Role.PreCandidate:
      return ProtoRole.PRE_CANDIDATE;
    default:
      return ProtoRole.FOLLOWER;
  }
}

/** The StatusResponse for a node's status; indexes become uint64 decimal strings. */
export function statusResponse(status: NodeStatus): StatusResponse {
  return {
    nodeId: status.nodeId,
    role: protoRole(status),
    term: String(status.term),
    leaderId: status.leaderId,
    commitIndex: String(status.commitIndex),
    appliedIndex: String(status.appliedIndex),
    lastIndex: String(status.lastIndex),
    members: status.members.map(protoMember),
  };
}

/** A member as the proto Member; indexes become uint64 decimal strings. */
export function protoMember(m: MemberStatus): Member {
  return {
    id: m.id,
    address: m.address,
    learner: m.learner,
    matchIndex: String(m.matchIndex),
    nextIndex: String(m.nextIndex),
    reachable: m.reachable,
  };
}

/** The operations over one backend. */
export function createKvService(backend: ApiBackend, limits: SizeLimits = DEFAULT_LIMITS): KvService {
  return {
    async put(request, deadlineMs) {
      checkKey(request.key, 'key', limits);
      checkValue(request.value, 'value', limits);
      const { revision } = await withDeadline(
        backend.put(request.key, request.value, deadlineMs),
        deadlineMs,
      );
      return { message: 'success', revision: String(revision) };
    },

    async get(request, deadlineMs) {
      checkKey(request.key, 'key', limits);
      const consistency = toReadConsistency(request.consistency);
      const { kv } = await withDeadline(backend.get(request.key, consistency, deadlineMs), deadlineMs);
      if (kv === null) throw notFound(`key not found: ${encodeBase64(request.key)}`);
      return { key: kv.key, value: kv.value, revision: String(kv.modRevision) };
    },

    async delete(request, deadlineMs) {
      checkKey(request.key, 'key', limits);
      const { deleted, revision } = await withDeadline(backend.delete(request.key, deadlineMs), deadlineMs);
      return { deleted, revision: String(revision) };
    },

    async range(request, deadlineMs) {
      checkPrefix(request.prefix, limits);
      const limit = rangeLimit(request.limit);
      const startAfter = decodePageToken(request.pageToken, request.prefix);
      const consistency = toReadConsistency(request.consistency);
      const page = await withDeadline(
        backend.range(request.prefix, startAfter, limit, consistency, deadlineMs),
        deadlineMs,
      );
      const last = page.kvs[page.kvs.length - 1];
      return {
        kvs: page.kvs.map((kv) => ({ key: kv.key, value: kv.value, modRevision: String(kv.modRevision) })),
        nextPageToken: page.more && last !== undefined ? encodePageToken(last.key) : '',
        revision: String(page.revision),
      };
    },

    async compareAndSwap(request, deadlineMs) {
      checkKey(request.key, 'key', limits);
      checkValue(request.value, 'value', limits);
      const expected = casExpectation(request.expectedValue, request.expectedAbsent);
      const result = await withDeadline(
        backend.compareAndSwap(request.key, expected, request.value, deadlineMs),
        deadlineMs,
      );
      return {
        swapped: result.swapped,
        revision: String(result.revision),
        currentValue: result.swapped ? EMPTY : (result.current ?? EMPTY),
        currentAbsent: !result.swapped && result.current === null,
      };
    },

    async status() {
      return statusResponse(await backend.status());
    },

    async memberList(deadlineMs, opts) {
      const r = await withDeadline(backend.memberList(deadlineMs, opts), deadlineMs);
      return { leaderId: r.leaderId, members: r.members.map(protoMember) };
    },

    async memberAdd(request, deadlineMs, opts) {
      checkMemberId(request.id);
      checkMemberAddress(request.address);
      const r = await withDeadline(
        backend.memberAdd(request.id, request.address, request.learner, deadlineMs, opts),
        deadlineMs,
      );
      return { member: protoMember(r.member), members: r.members.map(protoMember), clusterId: r.clusterId };
    },

    async memberRemove(request, deadlineMs, opts) {
      checkMemberId(request.id);
      const r = await withDeadline(backend.memberRemove(request.id, deadlineMs, opts), deadlineMs);
      return { members: r.members.map(protoMember) };
    },

    async transferLeadership(request, deadlineMs, opts) {
      if (request.targetId !== '') checkMemberId(request.targetId, 'targetId');
      const r = await withDeadline(
        backend.transferLeadership(request.targetId, deadlineMs, opts),
        deadlineMs,
      );
      return { leaderId: r.leaderId, term: String(r.term) };
    },

    async shutdown() {
      return backend.shutdown();
    },
  };
}
