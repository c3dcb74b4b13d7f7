/**
 * A client of another node's ClusterService, for the calls a node makes on
 * its own behalf: forwarding a membership call to the leader, joining a
 * cluster (DKV_JOIN), asking whether it is still a member. One channel per
 * address, kept open; failures come back as DkvErrors with the status the
 * other node answered, so a forwarded call fails as it would have there.
 */
import * as grpc from '@grpc/grpc-js';
import {
  FORWARDED_METADATA_KEY,
  type MemberAddResult,
  type MemberListResult,
  type MemberStatus,
} from '../api/backend.js';
import { DkvError, ErrorCode } from '../errors.js';
import { ClusterServiceClient, type Member } from '../gen/dkv/v0/cluster.js';

/** The dkv error code for a gRPC status another node answered. */
function errorCodeOf(code: grpc.status): ErrorCode {
  switch (code) {
    case grpc.status.INVALID_ARGUMENT:
      return ErrorCode.InvalidArgument;
    case grpc.status.NOT_FOUND:
      return ErrorCode.NotFound;
    case grpc.status.FAILED_PRECONDITION:
      return ErrorCode.FailedPrecondition;
    case grpc.status.DEADLINE_EXCEEDED:
      return ErrorCode.DeadlineExceeded;
    case grpc.status.UNAVAILABLE:
    case grpc.status.CANCELLED:
    case grpc.status.UNIMPLEMENTED:
      return ErrorCode.Unavailable;
    case grpc.status.DATA_LOSS:
      return ErrorCode.DataLoss;
    default:
      return ErrorCode.Internal;
  }
}

/** A proto Member as the backend's MemberStatus. */
function memberStatus(m: Member): MemberStatus {
  return {
    id: m.id,
    address: m.address,
    learner: m.learner,
    matchIndex: Number(m.matchIndex),
    nextIndex: Number(m.nextIndex),
    reachable: m.reachable,
  };
}

/** A unary client method in its (request, metadata, options, callback) form. */
type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** ClusterService clients by address. */
export class ClusterClient {
  private readonly clients = new Map<string, ClusterServiceClient>();
  /** Calls not answered yet: close() cancels them (closing a channel spares calls already sent). */
  private readonly inFlight = new Set<grpc.ClientUnaryCall>();

  private client(address: string): ClusterServiceClient {
    let c = this.clients.get(address);
    if (!c) {
      c = new ClusterServiceClient(address, grpc.credentials.createInsecure());
      this.clients.set(address, c);
    }
    return c;
  }

  private call<Req, Res>(
    address: string,
    pick: (c: ClusterServiceClient) => Unary<Req, Res>,
    request: Req,
    deadlineMs: number,
    forwarded: boolean,
  ): Promise<Res> {
    const c = this.client(address);
    const metadata = new grpc.Metadata();
    if (forwarded) metadata.set(FORWARDED_METADATA_KEY, '1');
    return new Promise((resolve, reject) => {
      const call = pick(c).call(
        c,
        request,
        metadata,
        { deadline: new Date(deadlineMs) },
        (error, response) => {
          this.inFlight.delete(call);
          if (!error) return resolve(response);
          const what = error.code === grpc.status.UNAVAILABLE ? `${address} unreachable: ` : `${address}: `;
          reject(new DkvError(errorCodeOf(error.code), `${what}${error.details || error.message}`));
        },
      );
      this.inFlight.add(call);
    });
  }

  /** MemberList at `address`. */
  async memberList(address: string, deadlineMs: number, forwarded: boolean): Promise<MemberListResult> {
    const r = await this.call(address, (c) => c.memberList, {}, deadlineMs, forwarded);
    return { leaderId: r.leaderId, members: r.members.map(memberStatus) };
  }

  /** MemberAdd at `address`. */
  async memberAdd(
    address: string,
    request: { id: string; address: string; learner: boolean },
    deadlineMs: number,
    forwarded: boolean,
  ): Promise<MemberAddResult> {
    const r = await this.call(address, (c) => c.memberAdd, request, deadlineMs, forwarded);
    if (!r.member)
      throw new DkvError(ErrorCode.Internal, `${address}: MemberAdd answered without the member`);
    return { member: memberStatus(r.member), members: r.members.map(memberStatus), clusterId: r.clusterId };
  }

  /** MemberRemove at `address`. */
  async memberRemove(
    address: string,
    id: string,
    deadlineMs: number,
    forwarded: boolean,
  ): Promise<{ members: MemberStatus[] }> {
    const r = await this.call(address, (c) => c.memberRemove, { id }, deadlineMs, forwarded);
    return { members: r.members.map(memberStatus) };
  }

  /** TransferLeadership at `address`. */
  async transferLeadership(
    address: string,
    targetId: string,
    deadlineMs: number,
    forwarded: boolean,
  ): Promise<{ leaderId: string; term: number }> {
    const r = await this.call(address, (c) => c.transferLeadership, { targetId }, deadlineMs, forwarded);
    return { leaderId: r.leaderId, term: Number(r.term) };
  }

  /** Cancel the calls in flight (each fails as unavailable) and close every channel. */
  close(): void {
    for (const call of [...this.inFlight]) call.cancel();
    this.inFlight.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
