import type { ChannelOptions } from '@grpc/grpc-js';

/** The largest gRPC message a peer may send or receive: a batch of App messages or a snapshot chunk, with room to spare. */
export const MAX_PEER_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Options of the channel to each peer. Keepalive pings detect a peer whose
 * host vanished without closing the TCP connection (writes would otherwise
 * sit in the kernel buffer for minutes); grpc's own reconnect backoff is
 * capped at our 2 s so a restarted peer is reached quickly; retries are off
 * because Raft retries by itself, and the per-call retry buffer is 0 because
 * grpc-js otherwise acknowledges the first 256 KiB of writes before any
 * connection exists, which would hide a dead peer from our write-callback
 * accounting (see peer-link.ts); a local subchannel pool gives each
 * transport its own connections, so close() really closes them.
 */
export const PEER_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 5_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.max_send_message_length': MAX_PEER_MESSAGE_BYTES,
  'grpc.max_receive_message_length': MAX_PEER_MESSAGE_BYTES,
  'grpc.enable_retries': 0,
  'grpc.per_rpc_retry_buffer_size': 0,
  'grpc.use_local_subchannel_pool': 1,
};

/**
 * Options the node should give the grpc.Server that the transport registers
 * on: a receive limit that admits the largest peer message (the default is
 * 4 MiB) and keepalive so the server also drops connections of dead peers
 * (freeing a half-received snapshot).
 */
export const PEER_SERVER_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_PEER_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_PEER_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 5_000,
  'grpc.keepalive_timeout_ms': 5_000,
};
