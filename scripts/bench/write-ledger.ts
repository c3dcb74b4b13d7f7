/**
 * The benchmark's record of its writes, to tell whether the cluster lost an
 * acknowledged one.
 *
 * Every put gets a number of its own (its `seq`), and its value carries that
 * number: the value's first STAMP_BYTES bytes are the number in decimal,
 * zero-padded (the rest is the usual pattern, so values keep their size).
 * The ledger keeps, per number, the key, when the put was sent and when it
 * was acknowledged. After the load, every key is read back linearizably, and
 * the value found names the write that is the key's last.
 *
 * A lost write: an acknowledged put A whose key, read back, holds the value of
 * a put W that was acknowledged before A was sent. W finished before A began,
 * so any linearizable store orders A after W, and the last value must be A's
 * or a later one's, never W's. A key that is missing, or holds a value no
 * numbered put wrote, loses every acknowledged put to it. A put that failed
 * or timed out may or may not have taken effect, at any time after it was
 * sent: its value being last is never a loss.
 *
 * Times are the load generator's (performance.now()): a put counts as sent
 * when the generator issues it and as acknowledged when its reply is handled,
 * so both err towards reporting no loss, never towards a false one. (In the
 * open loop a put may wait in its connection's queue after it is issued, so
 * there a loss among puts queued behind each other goes unseen.)
 *
 * Every check judges every write so far, not only the last phase's: a write
 * acknowledged early and lost later (say, rolled back by a leader change
 * under a later load) is caught as long as no later write to its key hides
 * it. Only each key's final value is read, so a check can show at most one
 * loss per key, among the writes after that key's surviving one.
 */

/** Bytes at the start of a put's value that carry its number. */
export const STAMP_BYTES = 12;

/** The largest number a stamp can carry. */
const MAX_SEQ = 10 ** STAMP_BYTES - 1;

/** The stamp of write `seq`: its number as STAMP_BYTES decimal digits. */
export function stampText(seq: number): string {
  return String(seq).padStart(STAMP_BYTES, '0');
}

/** The base64 of every three decimal digits, 000 to 999: four characters each. */
const DIGITS_BASE64 = Array.from({ length: 1000 }, (_, n) =>
  Buffer.from(String(n).padStart(3, '0'), 'latin1').toString('base64'),
);

/**
 * The stamp in base64 (STAMP_BYTES is a multiple of 3, so it is the first characters of the
 * value's base64), from a table: this runs for every put the generator sends.
 */
export function stampBase64(seq: number): string {
  return (
    DIGITS_BASE64[Math.floor(seq / 1e9)]! +
    DIGITS_BASE64[Math.floor(seq / 1e6) % 1000]! +
    DIGITS_BASE64[Math.floor(seq / 1e3) % 1000]! +
    DIGITS_BASE64[seq % 1000]!
  );
}

/** The number stamped into `value`, or null if it carries none. */
export function stampOf(value: Buffer): number | null {
  if (value.length < STAMP_BYTES) return null;
  for (let i = 0; i < STAMP_BYTES; i++) if (value[i]! < 0x30 || value[i]! > 0x39) return null;
  return Number(value.toString('latin1', 0, STAMP_BYTES));
}

/** What one read-back found about every write so far. */
export interface WriteCheck {
  /** Acknowledged writes so far. */
  acked: number;
  /** Distinct keys those writes went to: what was read and judged. */
  keys: number;
  /** Acknowledged writes that are lost as the keyspace reads now (see the file's comment). */
  lost: number;
  /** Of those keys, the ones missing or holding a value that no numbered write to them wrote. */
  unexplained: number;
  /** A few lost writes or unexplained keys, described. */
  samples: string[];
  /** Why the keyspace could not be read back (then nothing was judged); null when it was. */
  failed: string | null;
}

const MAX_SAMPLES = 5;

/** The writes sent to one cluster, by number (1, 2, ...). */
export class WriteLedger {
  private count = 0;
  /** The writes any check so far found lost. */
  private readonly lostSeen = new Set<number>();
  private keys = new Int32Array(1024);
  private sentAt = new Float64Array(1024);
  /** NaN until acknowledged. */
  private ackedAt = new Float64Array(1024);

  /** Writes numbered so far; the next write's number is `size + 1`. */
  get size(): number {
    return this.count;
  }

  /** Number a write of key `key` sent at `at`; returns its number. */
  begin(key: number, at: number): number {
    if (this.count === this.keys.length) this.grow();
    if (this.count >= MAX_SEQ) throw new Error(`more than ${MAX_SEQ} writes to stamp`);
    const i = this.count++;
    this.keys[i] = key;
    this.sentAt[i] = at;
    this.ackedAt[i] = Number.NaN;
    return i + 1;
  }

  /** Write `seq` was acknowledged at `at`. */
  ack(seq: number, at: number): void {
    this.ackedAt[seq - 1] = at;
  }

  /** Acknowledged writes so far. */
  acked(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (!Number.isNaN(this.ackedAt[i]!)) n++;
    return n;
  }

  /** Distinct writes found lost by any check so far (a later write may have hidden some since). */
  get lostEver(): number {
    return this.lostSeen.size;
  }

  /** The check of a keyspace that could not be read back, for `reason`. */
  unread(reason: string): WriteCheck {
    return { acked: this.acked(), keys: 0, lost: 0, unexplained: 0, samples: [], failed: reason };
  }

  /** Write `seq`'s key, or undefined if no such write was numbered. */
  keyOf(seq: number): number | undefined {
    return seq >= 1 && seq <= this.count ? this.keys[seq - 1] : undefined;
  }

  /**
   * Judge every write so far against `finals`, each key's value as read back after they all
   * ended (a key absent from the map was not found).
   */
  check(finals: ReadonlyMap<number, Buffer>): WriteCheck {
    const samples: string[] = [];
    const sample = (s: string) => {
      if (samples.length < MAX_SAMPLES) samples.push(s);
    };
    // Per key: the acknowledgement time of the write its value came from; NaN if that write was
    // never acknowledged (no loss can be shown), null if no numbered write to the key explains it.
    const lastAck = new Map<number, number | null>();
    const judge = (key: number): number | null => {
      const known = lastAck.get(key);
      if (known !== undefined) return known;
      const value = finals.get(key);
      const seq = value === undefined ? null : stampOf(value);
      let at: number | null = null;
      if (seq !== null && this.keyOf(seq) === key) at = this.ackedAt[seq - 1]!;
      else sample(`key ${key}: ${value === undefined ? 'missing' : `holds ${describe(value)}`}`);
      lastAck.set(key, at);
      return at;
    };
    let acked = 0;
    let lost = 0;
    for (let i = 0; i < this.count; i++) {
      const ackAt = this.ackedAt[i]!;
      if (Number.isNaN(ackAt)) continue;
      acked++;
      const key = this.keys[i]!;
      const last = judge(key);
      if (last === null || last < this.sentAt[i]!) {
        lost++;
        this.lostSeen.add(i + 1);
        if (last !== null)
          sample(
            `write ${i + 1} (key ${key}) acknowledged, but the key holds a write acknowledged before it was sent`,
          );
      }
    }
    let unexplained = 0;
    for (const at of lastAck.values()) if (at === null) unexplained++;
    return { acked, keys: lastAck.size, lost, unexplained, samples, failed: null };
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const keys = new Int32Array(n);
    keys.set(this.keys);
    const sentAt = new Float64Array(n);
    sentAt.set(this.sentAt);
    const ackedAt = new Float64Array(n);
    ackedAt.set(this.ackedAt);
    this.keys = keys;
    this.sentAt = sentAt;
    this.ackedAt = ackedAt;
  }
}

/** A value for a sample line: its stamp if it has one, else its first bytes. */
function describe(value: Buffer): string {
  const seq = stampOf(value);
  if (seq !== null) return `the value of write ${seq}, another key's or none`;
  return `an unstamped value (${JSON.stringify(value.toString('latin1', 0, 16))})`;
}
