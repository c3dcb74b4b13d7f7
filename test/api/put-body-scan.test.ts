/**
 * The one-pass Put body scanner against the general decoder: whatever the scanner accepts it must
 * decode exactly as protojson's rules do, and whatever the general decoder refuses it must leave
 * to that decoder (so the client gets its error message).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePutFields } from '../../src/api/json.js';
import { scanPutBody } from '../../src/api/put-body-scan.js';
import { Prng } from '../../src/raft/prng.js';

/** The general decoder's result, or its error. */
function general(body: Buffer): unknown {
  try {
    return decodePutFields(body);
  } catch (error) {
    return error;
  }
}

const body = (key: string, value: string) => Buffer.from(`{"key":"${key}","value":"${value}"}`, 'latin1');

describe('Put body scanner', () => {
  test('reads the common shape, every length of key and value, padded or not', () => {
    for (let n = 0; n <= 40; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      const padded = bytes.toString('base64');
      for (const text of [padded, padded.replace(/=+$/, '')]) {
        const b = body(text, padded);
        assert.deepEqual(scanPutBody(b), { key: bytes, value: bytes }, text);
        assert.deepEqual(scanPutBody(b), general(b), text);
      }
    }
    // Every byte value, so the sextet table is checked whole.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(scanPutBody(body('aw==', all.toString('base64')))?.value, all);
  });

  test('leaves every other shape to the general decoder', () => {
    const declined = [
      '{"key": "aw==","value":"dg=="}', // whitespace
      '{"value":"dg==","key":"aw=="}', // another order
      '{"key":"aw==","value":"dg==","x":1}', // another field
      '{"key":"aw==","value":"dg=="}\n', // trailing whitespace
      '{"key":"aw==","value":"dg=="}}', // trailing bytes
      '{"key":"a-8=","value":"dg=="}', // URL-safe alphabet
      '{"key":"aw\\u003d\\u003d","value":"dg=="}', // escapes
      '{"key":"aw==","value":null}', // null
      '{"key":"a","value":"dg=="}', // one character short of a byte
      '{"key":"aw=","value":"dg=="}', // padding that does not complete a quantum
      '{"key":"aw===","value":"dg=="}', // too much padding
      '{"key":"a=w=","value":"dg=="}', // padding inside
      '{"key":"aw==","value":"dg==', // cut short
      '{"key":"aw==","value":"dg==\x00"}',
      '{"key":"aw\\n==","value":"dg=="}', // an escaped newline, which Go's base64 skips
      '{"key":"aw==\n","value":"dg=="}', // a raw newline, which JSON refuses
      '{"key":"aw=="',
      '',
    ];
    for (const text of declined) {
      const b = Buffer.from(text, 'latin1');
      assert.equal(scanPutBody(b), null, text);
    }
  });

  test('never disagrees with the general decoder on mutated bodies', () => {
    const rng = new Prng(20261124);
    const alphabet = 'AZaz09+/=-_"}{,: \\\n\x00\xff';
    let scanned = 0;
    for (let run = 0; run < 20000; run++) {
      const key = Buffer.from(Array.from({ length: rng.int(6) }, () => rng.int(256)));
      const value = Buffer.from(Array.from({ length: rng.int(12) }, () => rng.int(256)));
      const b = body(key.toString('base64'), value.toString('base64'));
      for (let m = 1 + rng.int(3); m > 0; m--)
        b[rng.int(b.length)] = alphabet.charCodeAt(rng.int(alphabet.length));
      const fast = scanPutBody(b);
      if (fast === null) continue;
      scanned++;
      assert.deepEqual(fast, general(b), b.toString('latin1'));
    }
    assert.ok(scanned > 1000, `only ${scanned} mutated bodies were scanned`);
  });
});
