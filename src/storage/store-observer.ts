import type { CommitThread } from './write-queue.js';

/**
 * Callbacks the store makes at a few points of its write path, so the daemon
 * can keep metrics without the storage layer knowing about them. Every
 * callback is optional; each call passes numbers or a constant string, so an
 * unset observer costs the write path nothing but a property check.
 */
export interface StoreObserver {
  /** A write transaction was committed on this thread (the event loop blocks for its fsync, if any). */
  onCommit?(thread: CommitThread): void;
  /** A durable transaction (one group commit of entries, hard state or a snapshot) took `ms`, fsync included. */
  onDurableWrite?(ms: number): void;
  /** Applying `entries` committed entries inside a write transaction took `ms`. */
  onApply?(entries: number, ms: number): void;
}

/** The observer of a store nobody observes. */
export const NO_STORE_OBSERVER: StoreObserver = Object.freeze({});
