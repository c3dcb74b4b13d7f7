/** The outcome of an election so far. */
export enum VoteResult {
  Pending = 'pending',
  Won = 'won',
  Lost = 'lost',
}

/**
 * The highest index acknowledged by a majority of voters: sort the voters'
 * match indexes and take the one a quorum has reached (Raft §5.3).
 */
export function majorityCommitIndex(voters: Iterable<string>, matchOf: (id: string) => number): number {
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  if (matches.length === 0) return Number.MAX_SAFE_INTEGER;
  matches.sort((a, b) => b - a);
  return matches[Math.floor(matches.length / 2)]!;
}

/** Tally votes among voters: won with a majority of grants, lost once a majority is out of reach. */
export function voteResult(voters: ReadonlySet<string>, votes: ReadonlyMap<string, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (granted >= q) return VoteResult.Won;
  if (voters.size - rejected < q) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** Whether the members in `active` form a majority of voters. */
export function hasQuorum(voters: ReadonlySet<string>, active: (id: string) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (active(id)) n++;
  return n >= Math.floor(voters.size / 2) + 1;
}
