/**
 * The data the consensus core consumes and produces. Everything here is plain
 * data: the driver turns it into LMDB writes and gRPC messages, the simulator
 * into in-memory deliveries. Indexes and terms are JS numbers (exact up to
 * 2^53, far past any log a node will hold).
 */

/** A node's identity: the id from DKV_CLUSTER (`a`, `b`, ...). '' means none. */
export type NodeId = string;

/** No node: used for "voted for nobody" and "leader unknown". */
export const NONE: NodeId = '';

/** What a log entry carries: client data, or a membership change. */
export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

/** One Raft log entry. An empty Normal entry is the leader's no-op of a new term. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The state Raft must persist before answering any message (Figure 2). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The membership of the cluster: voters decide, learners only receive the log. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** Which membership change an entry asks for. */
export enum ConfChangeType {
  /** Add a voter, or promote an existing learner to voter. */
  AddNode = 0,
  /** Add a learner (or demote a voter to learner). */
  AddLearner = 1,
  RemoveNode = 2,
}

/** A single-server membership change (Raft thesis §4.1). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core; carries e.g. the new node's address. */
  context: Uint8Array;
}

/** What a snapshot covers: the log up to `index` (whose term is `term`). */
export interface SnapshotMeta {
  index: number;
  term: number;
  confState: ConfState;
}

/** A snapshot of the state machine at an applied index. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** Every message kind the core sends or accepts; local-only kinds never cross the network. */
export enum MessageType {
  /** local: start an election (or pre-election). */
  Hup = 0,
  /** local: leader sends heartbeats. */
  Beat = 1,
  /** a client proposal; followers forward it to the leader. */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  PreVote = 7,
  PreVoteResp = 8,
  Snap = 9,
  Heartbeat = 10,
  HeartbeatResp = 11,
  /** local: the transport could not reach a peer. */
  Unreachable = 12,
  /** local: the driver reports how sending a snapshot ended. */
  SnapStatus = 13,
  /** local: leader checks it still hears from a quorum. */
  CheckQuorum = 14,
  TransferLeader = 15,
  TimeoutNow = 16,
  ReadIndex = 17,
  ReadIndexResp = 18,
}

/** A Raft message. Fields not used by a type are zero/empty. */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry before `entries`; Vote: term of the candidate's last entry. */
  logTerm: number;
  /** App: index before `entries`; AppResp: highest index matched (or rejected index); Vote: last index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp reject: the follower's hint for where to probe next (fast backtrack). */
  rejectHint: number;
  /** AppResp reject: the term of the follower's entry at rejectHint. */
  logTermHint: number;
  snapshot: Snapshot | null;
  /** ReadIndex / Heartbeat: the request context that ties answers to questions. */
  context: Uint8Array;
}

/** Volatile state the application may want to show (role and leader). */
export interface SoftState {
  leader: NodeId;
  role: Role;
}

/** A node's role. PreCandidate is the pre-vote phase (thesis §9.6). */
export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** The answer to a readIndex request: once `index` is applied, a read for `context` is linearizable. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * What the core asks the driver to do, in this order: persist `hardState`,
 * `snapshot` and `entries` (durably), then send `messages`, then apply
 * `committedEntries`, hand out `readStates`, and call `advance()`.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  /** Entries to append to stable storage (they may overwrite a conflicting tail). */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and apply to the state machine. */
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** False when nothing in this Ready needs an fsync (only messages / applies). */
  mustSync: boolean;
}

/** Build a message with every field defaulted, so call sites name only what they use. */
export function makeMessage(m: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    from: NONE,
    to: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    logTermHint: 0,
    snapshot: null,
    context: EMPTY_BYTES,
    ...m,
  };
}

/** A shared empty byte array (never written to). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Whether a message type is local to a node (never sent over the network). */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}
