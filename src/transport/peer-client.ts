/**
 * The RaftTransport client a peer link dials with: the generated client,
 * except that Send batches are serialized by batch-encoder (same bytes,
 * entries encoded once for all followers, no copy of the result).
 */
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { type RaftTransportClient, RaftTransportService } from '../gen/dkv/raft/v1/raft.js';
import { encodeMessageBatch } from './batch-encoder.js';

const service = {
  ...RaftTransportService,
  send: { ...RaftTransportService.send, requestSerialize: encodeMessageBatch },
};

/** Constructs a RaftTransportClient, as the generated constructor does. */
export const PeerClient = makeGenericClientConstructor(
  service,
  'dkv.raft.v1.RaftTransport',
) as unknown as new (
  ...args: ConstructorParameters<typeof RaftTransportClient>
) => RaftTransportClient;
