/**
 * The API's building blocks on their own: the status mapping table,
 * base64 rules, Go-compatible JSON diagnostics, query parsing, validation
 * and deadlines.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { base64Problem, decodeBase64, encodeBase64 } from '../../src/api/base64.js';
import { grpcCallDeadlineMs, parseGrpcTimeout, withDeadline } from '../../src/api/deadline.js';
import { scanFirstValue } from '../../src/api/go-json-scanner.js';
import { goQuote, goQuoteByte } from '../../src/api/go-quote.js';
import { decodeCompareAndSwapRequest, decodePutRequest } from '../../src/api/json.js';
import { linePosition, topLevelMembers } from '../../src/api/json-positions.js';
import { parseQuery } from '../../src/api/query.js';
import { GRPC_STATUS_OF, httpStatusFromGrpc, toGrpcError, toHttpError } from '../../src/api/status-map.js';
import {
  consistencyFromText,
  decodePageToken,
  encodePageToken,
  rangeLimit,
  toReadConsistency,
} from '../../src/api/validate.js';
import { DkvError, ErrorCode, notFound } from '../../src/errors.js';
import { Consistency } from '../../src/gen/dkv/v0/kvstore.js';

describe('status-map', () => {
  test('HTTP statuses are grpc-gateway v2 HTTPStatusFromCode', () => {
    const expected: Record<number, number> = {
      0: 200,
      1: 499,
      2: 500,
      3: 400,
      4: 504,
      5: 404,
      6: 409,
      7: 403,
      8: 429,
      9: 400,
      10: 409,
      11: 400,
      12: 501,
      13: 500,
      14: 503,
      15: 500,
      16: 401,
    };
    for (const [code, http] of Object.entries(expected)) {
      assert.equal(httpStatusFromGrpc(Number(code)), http, `code ${code}`);
    }
  });

  test('every ErrorCode has a gRPC status of the same name', () => {
    for (const code of Object.values(ErrorCode)) {
      assert.equal(GrpcStatus[GRPC_STATUS_OF[code]], code);
    }
  });

  test('a DkvError keeps its message; anything else is a logged, generic INTERNAL', () => {
    const logged: unknown[] = [];
    const log = (_level: string, _msg: string, fields?: object) => logged.push(fields);
    assert.deepEqual(toHttpError(notFound('key not found: aw=='), log), {
      status: 404,
      body: { code: 5, message: 'key not found: aw==', details: [] },
    });
    assert.deepEqual(
      toHttpError(new DkvError(ErrorCode.FailedPrecondition, 'change in progress'), log).status,
      400,
    );
    assert.deepEqual(toHttpError(new Error('/secret/path'), log), {
      status: 500,
      body: { code: 13, message: 'internal error', details: [] },
    });
    const grpcError = toGrpcError('a thrown string', log);
    assert.equal(grpcError.code, GrpcStatus.INTERNAL);
    assert.equal(grpcError.details, 'internal error');
    assert.equal(logged.length, 2);
  });
});

describe('base64', () => {
  test('standard and URL-safe, padded or not, decode to the same bytes', () => {
    for (const text of ['+/8=', '+/8', '-_8=', '-_8']) {
      assert.deepEqual(decodeBase64(text), Buffer.from([0xfb, 0xff]), text);
    }
    assert.equal(encodeBase64(Buffer.from([0xfb, 0xff])), '+/8=');
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
  });

  test('anything else is refused, with where it goes wrong', () => {
    const cases: Array<[string, number]> = [
      ['!!!', 0],
      ['+_8=', 0], // a mix of alphabets: '_' selects URL-safe, where '+' is illegal
      ['aGVsbG8==', 7], // padding on a length that must not have it
      ['aGVsb', 4], // one character cannot make a byte
      ['a===', 1],
      ['ab=c', 2],
    ];
    for (const [text, offset] of cases) {
      assert.equal(decodeBase64(text), null, text);
      assert.equal(base64Problem(text), offset, text);
    }
  });
});

describe('Go-compatible JSON diagnostics', () => {
  const scan = (text: string) => scanFirstValue(Buffer.from(text));

  test('the first value ends where Go’s Decoder stops reading', () => {
    assert.deepEqual(scan('{"a":1} trailing'), { kind: 'value', end: 7 });
    assert.deepEqual(scan(' [1, 2]'), { kind: 'value', end: 7 });
    assert.deepEqual(scan('12 x'), { kind: 'value', end: 2 });
    assert.deepEqual(scan('true'), { kind: 'value', end: 4 });
    assert.deepEqual(scan(' \n\t'), { kind: 'eof' });
  });

  test('syntax errors read as encoding/json’s', () => {
    const cases: Array<[string, string]> = [
      ['{"a":', 'unexpected EOF'],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b"}', `invalid character '"' after object key:value pair`],
      ['[1 2]', "invalid character '2' after array element"],
      ['"a\\x"', "invalid character 'x' in string escape code"],
      ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['"a\tb"', "invalid character '\\t' in string literal"],
      ['-x', "invalid character 'x' in numeric literal"],
      ['1.x', "invalid character 'x' after decimal point in numeric literal"],
      ['1e+x', "invalid character 'x' in exponent of numeric literal"],
      ['tru!', "invalid character '!' in literal true (expecting 'e')"],
      ['fals', 'unexpected EOF'],
      ["'a'", "invalid character '\\'' looking for beginning of value"],
      ['\ufeff{}', "invalid character 'ï' looking for beginning of value"],
    ];
    for (const [text, message] of cases) assert.deepEqual(scan(text), { kind: 'error', message }, text);
  });

  test('members and positions are reported as protojson counts them', () => {
    const text = '{"a": "x",\n "é": {"n": [1]}, "b": true}';
    assert.deepEqual(
      topLevelMembers(text).map((m) => [m.name, m.nameRaw, m.valueRaw]),
      [
        ['a', '"a"', '"x"'],
        ['é', '"é"', '{'],
        ['b', '"b"', 'true'],
      ],
    );
    const b = topLevelMembers(text)[2]!;
    assert.deepEqual(linePosition(text, b.valuePos), { line: 2, column: 24 });
  });

  test('Go quoting', () => {
    assert.equal(goQuote('a"b\\c\n\x01é\u00a0'), '"a\\"b\\\\c\\n\\x01é\\u00a0"');
    assert.equal(goQuoteByte(0x27), "'\\''");
    assert.equal(goQuoteByte(0x22), `'"'`);
    assert.equal(goQuoteByte(0xc3), "'Ã'");
  });

  test('request bodies decode into messages, nulls and unknown fields ignored', () => {
    assert.deepEqual(decodePutRequest(Buffer.from('{"key":"aGk","value":null,"x":[{}]}')), {
      key: Buffer.from('hi'),
      value: Buffer.alloc(0),
    });
    assert.deepEqual(decodeCompareAndSwapRequest(Buffer.from('{"expected_absent":true,"key":"aw=="}')), {
      key: Buffer.from('k'),
      expectedValue: Buffer.alloc(0),
      expectedAbsent: true,
      value: Buffer.alloc(0),
    });
    assert.throws(
      () => decodePutRequest(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      (e: DkvError) => e.code === ErrorCode.InvalidArgument,
    );
  });
});

describe('query parsing', () => {
  test('Go url.ParseQuery rules: + is a space, %XX a byte, order kept', () => {
    const values = parseQuery('a=1&b=x+y%21&a=2&&c');
    assert.deepEqual(
      [...values],
      [
        ['a', ['1', '2']],
        ['b', ['x y!']],
        ['c', ['']],
      ],
    );
    assert.throws(() => parseQuery('a=1;b=2'), /invalid semicolon separator in query/);
    assert.throws(() => parseQuery('a=%4'), /invalid URL escape "%4"/);
  });
});

describe('validation', () => {
  test('Range limits and page tokens', () => {
    assert.equal(rangeLimit(0), 100);
    assert.equal(rangeLimit(1), 1);
    assert.equal(rangeLimit(1000), 1000);
    assert.equal(rangeLimit(1001), 1000);
    const token = encodePageToken(Buffer.from([0xfb, 0xff, 0x61]));
    assert.equal(token, '-_9h');
    assert.deepEqual(decodePageToken(token, Buffer.from([0xfb])), Buffer.from([0xfb, 0xff, 0x61]));
    assert.equal(decodePageToken('', Buffer.alloc(0)), null);
    assert.throws(() => decodePageToken('a', Buffer.alloc(0)), /not a token returned by Range/);
    assert.throws(() => decodePageToken('+/8=', Buffer.alloc(0)), /not a token returned by Range/);
    assert.throws(() => decodePageToken(token, Buffer.from('x')), /different prefix/);
  });

  test('consistency by name or number, nothing else', () => {
    assert.equal(consistencyFromText('SERIALIZABLE'), Consistency.SERIALIZABLE);
    assert.equal(consistencyFromText('+1'), Consistency.SERIALIZABLE);
    assert.equal(consistencyFromText('0'), Consistency.LINEARIZABLE);
    for (const text of ['2', '-1', 'serializable', '', '1.0'])
      assert.equal(consistencyFromText(text), null, text);
    assert.throws(() => toReadConsistency(-1), /not a valid value/);
  });
});

describe('deadlines', () => {
  test('Grpc-Timeout values as grpc-gateway decodes them', () => {
    assert.equal(parseGrpcTimeout('100m'), 100);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('1M'), 60_000);
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('5000u'), 5);
    for (const bad of ['', 'm', '5', '5x', 'xm', '1.5S']) assert.equal(parseGrpcTimeout(bad), null, bad);
  });

  test('a gRPC call without a deadline gets the default', () => {
    assert.equal(grpcCallDeadlineMs(Number.POSITIVE_INFINITY, 500, 1000), 1500);
    assert.equal(grpcCallDeadlineMs(new Date(4000), 500, 1000), 4000);
    assert.equal(grpcCallDeadlineMs(3000, 500, 1000), 3000);
  });

  test('withDeadline gives up shortly after the deadline, and otherwise passes results through', async () => {
    assert.equal(await withDeadline(Promise.resolve(7), Date.now() + 1000), 7);
    await assert.rejects(
      withDeadline(new Promise(() => {}), Date.now() + 20),
      (e: DkvError) => e.code === ErrorCode.DeadlineExceeded,
    );
  });
});
