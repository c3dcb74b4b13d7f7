import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memberContext, parseMemberRecord } from '../../src/node/member-context.js';

test('a member record keeps the address and the stay-a-learner mark through a conf change context', () => {
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(decode(memberContext('10.0.0.1:7070', false)), '10.0.0.1:7070');
  assert.deepEqual(parseMemberRecord(decode(memberContext('10.0.0.1:7070', false))), {
    address: '10.0.0.1:7070',
    pinnedLearner: false,
  });
  assert.deepEqual(parseMemberRecord(decode(memberContext('dkv-4:7070', true))), {
    address: 'dkv-4:7070',
    pinnedLearner: true,
  });
  // Bootstrap records (plain addresses) and members without an address.
  assert.deepEqual(parseMemberRecord('[::1]:7070'), { address: '[::1]:7070', pinnedLearner: false });
  assert.deepEqual(parseMemberRecord(''), { address: '', pinnedLearner: false });
});
