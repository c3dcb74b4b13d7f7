import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { type ExitCode, exitCodeOfGrpc } from '../../src/cli/exit-codes.js';
import { pairSeparator, parseLoadFile } from '../../src/cli/load-file.js';
import { gatewayJson } from '../../src/cli/output.js';
import { renderBar } from '../../src/cli/progress.js';
import { loadCliConfig } from '../../src/config.js';
import { RangeResponse } from '../../src/gen/dkv/v0/kvstore.js';

describe('CLI pieces', () => {
  test('gRPC status to exit code: one code per kind of failure, UNIMPLEMENTED is 6', () => {
    const cases: Array<[GrpcStatus, ExitCode]> = [
      [GrpcStatus.INVALID_ARGUMENT, 2],
      [GrpcStatus.NOT_FOUND, 3],
      [GrpcStatus.UNAVAILABLE, 4],
      [GrpcStatus.DEADLINE_EXCEEDED, 4],
      [GrpcStatus.FAILED_PRECONDITION, 5],
      [GrpcStatus.ALREADY_EXISTS, 5],
      [GrpcStatus.UNIMPLEMENTED, 6],
      [GrpcStatus.INTERNAL, 1],
      [GrpcStatus.DATA_LOSS, 1],
    ];
    for (const [status, code] of cases) assert.equal(exitCodeOfGrpc(status), code, GrpcStatus[status]);
  });

  test('key=value splits at the first =, in base64 after the key padding', () => {
    assert.equal(pairSeparator('a=b=c', false), 1);
    assert.equal(pairSeparator('YQ===Yg==', true), 4);
    assert.equal(pairSeparator('YWI==', true), 4);
    assert.equal(pairSeparator('nothing', false), -1);
    const pairs = parseLoadFile('YQ===Yg==\n{"key":"Yw==","value":""}\n', true, 'f');
    assert.deepEqual(
      pairs.map((p) => [p.key.toString(), p.value.toString()]),
      [
        ['a', 'b'],
        ['c', ''],
      ],
    );
    assert.throws(() => parseLoadFile('ok=1\n[1]\n', false, 'f'), /f:2: expected key=value or a JSON object/);
  });

  test('JSON output puts back the empty repeated fields ts-proto omits', () => {
    const doc = gatewayJson(RangeResponse, { kvs: [], nextPageToken: '', revision: '3' }, { kvs: [] });
    assert.deepEqual(doc, { kvs: [], nextPageToken: '', revision: '3' });
  });

  test('the progress bar text', () => {
    assert.equal(renderBar('loading', 5, 10), `loading [${'#'.repeat(15)}${'.'.repeat(15)}]  50% 5/10`);
    assert.equal(renderBar('x', 0, 0), `x [${'.'.repeat(30)}]   0% 0/0`);
  });

  test('client environment: defaults, DKV_ENDPOINTS and DKV_HISTORY_FILE, errors naming the variable', () => {
    const d = loadCliConfig({});
    assert.deepEqual(d.endpoints, ['127.0.0.1:7070', '127.0.0.1:8080', '127.0.0.1:9090']);
    assert.match(d.historyFile, /\.dkv_history$/);
    const e = loadCliConfig({ DKV_ENDPOINTS: ' h1:1 , [::1]:2 ', DKV_HISTORY_FILE: '/tmp/h' });
    assert.deepEqual([e.endpoints, e.historyFile], [['h1:1', '[::1]:2'], '/tmp/h']);
    assert.throws(() => loadCliConfig({ DKV_ENDPOINTS: ',' }), /DKV_ENDPOINTS: names no endpoint/);
    assert.throws(
      () => loadCliConfig({ DKV_ENDPOINTS: 'h:99999' }),
      /DKV_ENDPOINTS: "h:99999" is not host:port/,
    );
  });
});
