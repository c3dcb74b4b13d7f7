/**
 * What a membership change carries about its node in the conf change
 * context (stored by the store as the member's "address" record): the gRPC
 * address, and for a learner that must never be promoted, a `#learner` mark.
 * Keeping the mark in the replicated record means every later leader, and
 * every snapshot, knows which learners to leave alone.
 */

const PINNED_MARK = '#learner';

/** A member's record decoded: its address and whether it stays a learner. */
export interface MemberRecord {
  address: string;
  /** Added with `learner: true`: the leader never promotes it. */
  pinnedLearner: boolean;
}

/** Decode a stored member record ('' for a member without an address). */
export function parseMemberRecord(raw: string): MemberRecord {
  if (raw.endsWith(PINNED_MARK)) return { address: raw.slice(0, -PINNED_MARK.length), pinnedLearner: true };
  return { address: raw, pinnedLearner: false };
}

/** The conf change context for a member with this address (marked if it must stay a learner). */
export function memberContext(address: string, pinnedLearner: boolean): Uint8Array {
  return new TextEncoder().encode(pinnedLearner ? `${address}${PINNED_MARK}` : address);
}
