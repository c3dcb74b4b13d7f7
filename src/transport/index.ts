/**
 * Raft traffic between nodes: the PeerTransport contract and its gRPC
 * implementation. The node imports from here only.
 */

export { MAX_PEER_MESSAGE_BYTES, PEER_CHANNEL_OPTIONS, PEER_SERVER_OPTIONS } from './channel-options.js';
export { DecodeError, type DecodeProblem, decodeMessage, encodeMessage } from './codec.js';
export { createPeerTransport, type GrpcPeerTransportOptions } from './grpc-peer-transport.js';
export { defaultTransportLog, type TransportLog } from './log.js';
export type { PeerTransport, TransportHandlers } from './types.js';
