/**
 * The REST API against a real server on loopback: the original dkv's curl
 * contract, grpc-gateway v2's JSON and error bodies, routing, query strings,
 * deadlines and refusals of bad or oversize input.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ReadConsistency } from '../../src/api/backend.js';
import { CAS_BODY_LIMIT_BYTES, PUT_BODY_LIMIT_BYTES } from '../../src/api/rest.js';
import { deadlineExceeded, unavailable } from '../../src/errors.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../../src/storage/limits.js';
import { MemoryBackend } from './memory-backend.js';
import { REST_KINDS, type RestServer, recordingLog, rest, startRest } from './servers.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'Content-Type': 'application/json' };
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

/** The error body grpc-gateway writes. */
const errorBody = (code: number, message: string) => JSON.stringify({ code, message, details: [] });

for (const kind of REST_KINDS) {
  describe(`REST API (${kind})`, () => {
    let backend: MemoryBackend;
    let server: RestServer;
    const recorder = recordingLog();

    before(async () => {
      backend = new MemoryBackend();
      server = await startRest(backend, { requestTimeoutMs: 2000, log: recorder.log, kind });
    });
    after(() => server.close());
    beforeEach(() => {
      // A fresh store per test, on the same server.
      Object.assign(backend, new MemoryBackend());
      recorder.entries.length = 0;
    });

    const put = (key: string | Buffer, value: string | Buffer) =>
      rest(server, 'POST', '/v0/kv', {
        body: JSON.stringify({ key: b64(key), value: b64(value) }),
        headers: JSON_TYPE,
      });

    describe('the original dkv contract', () => {
      test("the seed's curl: a JSON body sent as form-urlencoded stores the pair", async () => {
        const stored = await rest(server, 'POST', '/v0/kv', {
          body: '{"key":"aGVsbG8=","value":"d29ybGQ="}',
          headers: FORM,
        });
        assert.equal(stored.status, 200);
        assert.equal(stored.text, '{"message":"success","revision":"1"}');
        assert.equal(stored.headers.get('content-type'), 'application/json');

        const read = await rest(server, 'GET', '/v0/kv/key/aGVsbG8=');
        assert.equal(read.status, 200);
        assert.equal(read.text, '{"key":"aGVsbG8=","value":"d29ybGQ=","revision":"1"}');
      });

      test('a body with no Content-Type at all is JSON too', async () => {
        const stored = await rest(server, 'POST', '/v0/kv', {
          body: Buffer.from('{"key":"aw==","value":""}'),
        });
        assert.equal(stored.status, 200);
        assert.equal(stored.text, '{"message":"success","revision":"1"}');
      });
    });

    describe('KVStore over REST', () => {
      test('Get returns the mod revision of the last write to the key, not the latest index', async () => {
        await put('a', '1');
        await put('b', '2');
        await put('a', '3');
        await put('c', '4');
        const read = await rest(server, 'GET', `/v0/kv/key/${b64url('a')}`);
        assert.equal(read.text, `{"key":"${b64('a')}","value":"${b64('3')}","revision":"3"}`);
      });

      test('a missing key is 404 with code 5 and the key in the message', async () => {
        const read = await rest(server, 'GET', '/v0/kv/key/bm9wZQ==');
        assert.equal(read.status, 404);
        assert.equal(read.text, errorBody(5, 'key not found: bm9wZQ=='));
      });

      test('Delete answers deleted true, then false for a missing key (200 both times)', async () => {
        await put('k', 'v');
        const first = await rest(server, 'DELETE', `/v0/kv/key/${b64url('k')}`);
        assert.equal(first.status, 200);
        assert.equal(first.text, '{"deleted":true,"revision":"2"}');
        const second = await rest(server, 'DELETE', `/v0/kv/key/${b64url('k')}`);
        assert.equal(second.status, 200);
        assert.equal(second.text, '{"deleted":false,"revision":"3"}');
        assert.equal((await rest(server, 'GET', `/v0/kv/key/${b64url('k')}`)).status, 404);
      });

      test('Range pages through 250 keys 100 at a time, with pageToken or page_token', async () => {
        const keys = Array.from({ length: 250 }, (_, i) => `key-${String(i).padStart(3, '0')}`);
        for (const key of [...keys].reverse()) await put(key, `v${key}`);
        await put('other', 'x'); // outside the prefix
        const seen: string[] = [];
        let token = '';
        const pageSizes: number[] = [];
        for (let page = 0; page < 5; page++) {
          const tokenParam = page % 2 === 0 ? 'pageToken' : 'page_token';
          const query = `prefix=${b64url('key-')}&limit=100${token ? `&${tokenParam}=${token}` : ''}`;
          const response = await rest(server, 'GET', `/v0/kv?${query}`);
          assert.equal(response.status, 200, response.text);
          const body = response.json as {
            kvs: Array<{ key: string; value: string; modRevision: string }>;
            nextPageToken: string;
            revision: string;
          };
          assert.deepEqual(Object.keys(body), ['kvs', 'nextPageToken', 'revision']);
          assert.equal(body.revision, '251');
          pageSizes.push(body.kvs.length);
          for (const kv of body.kvs) {
            const key = Buffer.from(kv.key, 'base64').toString();
            assert.equal(Buffer.from(kv.value, 'base64').toString(), `v${key}`);
            assert.equal(kv.modRevision, String(250 - keys.indexOf(key)));
            seen.push(key);
          }
          token = body.nextPageToken;
          if (token === '') break;
        }
        assert.deepEqual(pageSizes, [100, 100, 50]);
        assert.deepEqual(seen, keys);
      });

      test('Range over nothing still has every field: kvs [], nextPageToken "", revision "0"', async () => {
        const response = await rest(server, 'GET', '/v0/kv');
        assert.equal(response.text, '{"kvs":[],"nextPageToken":"","revision":"0"}');
      });

      test('Range limits: 0 is 100, above 1000 is lowered to 1000', async () => {
        await rest(server, 'GET', '/v0/kv');
        await rest(server, 'GET', '/v0/kv?limit=5000');
        await rest(server, 'GET', '/v0/kv?limit=7');
        assert.deepEqual(
          backend.calls.map((c) => c.limit),
          [100, 1000, 7],
        );
      });

      test('a page token that is garbage or from another prefix is 400', async () => {
        const garbage = await rest(server, 'GET', '/v0/kv?pageToken=***');
        assert.equal(garbage.status, 400);
        assert.equal(garbage.text, errorBody(3, 'page_token is not a token returned by Range'));
        const other = await rest(server, 'GET', `/v0/kv?prefix=${b64url('a')}&pageToken=${b64url('b1')}`);
        assert.equal(other.status, 400);
        assert.equal(other.text, errorBody(3, 'page_token belongs to a listing with a different prefix'));
      });

      test('CompareAndSwap: create-only with expectedAbsent, then swap on the expected value', async () => {
        const cas = (body: object) =>
          rest(server, 'POST', '/v0/kv/cas', { body: JSON.stringify(body), headers: FORM });
        const created = await cas({ key: b64('k'), expectedAbsent: true, value: b64('v1') });
        assert.equal(created.text, '{"swapped":true,"revision":"1","currentValue":"","currentAbsent":false}');
        const again = await cas({ key: b64('k'), expectedAbsent: true, value: b64('v2') });
        assert.equal(
          again.text,
          `{"swapped":false,"revision":"2","currentValue":"${b64('v1')}","currentAbsent":false}`,
        );
        // Proto field names are accepted on input.
        const swapped = await cas({ key: b64('k'), expected_value: b64('v1'), value: b64('v3') });
        assert.equal(swapped.text, '{"swapped":true,"revision":"3","currentValue":"","currentAbsent":false}');
        const stale = await cas({ key: b64('k'), expectedValue: b64('v1'), value: b64('v4') });
        assert.equal(
          stale.text,
          `{"swapped":false,"revision":"4","currentValue":"${b64('v3')}","currentAbsent":false}`,
        );
        const missing = await cas({ key: b64('nope'), expectedValue: b64('x'), value: b64('y') });
        assert.equal(missing.text, '{"swapped":false,"revision":"5","currentValue":"","currentAbsent":true}');
        const read = await rest(server, 'GET', `/v0/kv/key/${b64url('k')}`);
        assert.equal(read.text, `{"key":"${b64('k')}","value":"${b64('v3')}","revision":"3"}`);
      });

      test('CompareAndSwap with an empty expected value matches a key holding the empty value', async () => {
        await put('k', '');
        const swapped = await rest(server, 'POST', '/v0/kv/cas', {
          body: JSON.stringify({ key: b64('k'), value: b64('x') }),
        });
        assert.equal(swapped.text, '{"swapped":true,"revision":"2","currentValue":"","currentAbsent":false}');
      });

      test('expectedAbsent with an expected value is a contradiction: 400', async () => {
        const response = await rest(server, 'POST', '/v0/kv/cas', {
          body: JSON.stringify({
            key: b64('k'),
            expectedAbsent: true,
            expectedValue: b64('v'),
            value: b64('x'),
          }),
        });
        assert.equal(response.status, 400);
        assert.equal(
          response.text,
          errorBody(3, 'expected_value must be empty when expected_absent is true'),
        );
      });
    });

    describe('ClusterService over REST', () => {
      test('Status has every field, uint64 as strings, role by name, learners as such', async () => {
        const response = await rest(server, 'GET', '/v0/cluster/status');
        assert.equal(response.status, 200);
        assert.equal(
          response.text,
          '{"nodeId":"a","role":"LEADER","term":"3","leaderId":"a","commitIndex":"10","appliedIndex":"9",' +
            '"lastIndex":"11","members":[' +
            '{"id":"a","address":"127.0.0.1:7070","learner":false,"matchIndex":"11","nextIndex":"12","reachable":true},' +
            '{"id":"b","address":"127.0.0.1:8080","learner":true,"matchIndex":"0","nextIndex":"1","reachable":false}]}',
        );
      });

      test('a node with no members and no leader still lists members: [] and leaderId: ""', async () => {
        backend.nodeStatus = { ...backend.nodeStatus, learner: true, leaderId: '', members: [] };
        const response = await rest(server, 'GET', '/v0/cluster/status');
        const body = response.json as Record<string, unknown>;
        assert.equal(body.role, 'LEARNER');
        assert.equal(body.leaderId, '');
        assert.deepEqual(body.members, []);
      });
    });

    describe('grpc-gateway JSON', () => {
      test('zero values are present: an empty value is "" and revisions are strings', async () => {
        await put('k', '');
        const read = await rest(server, 'GET', `/v0/kv/key/${b64url('k')}`);
        assert.equal(read.text, `{"key":"${b64('k')}","value":"","revision":"1"}`);
      });

      test('bytes go out as padded standard base64 and come in URL-safe and unpadded too', async () => {
        const stored = await rest(server, 'POST', '/v0/kv', { body: '{"key":"-_8","value":"-_8"}' });
        assert.equal(stored.status, 200, stored.text);
        const read = await rest(server, 'GET', '/v0/kv/key/-_8');
        assert.equal(read.text, '{"key":"+/8=","value":"+/8=","revision":"1"}');
        // The same key in standard base64, its '/' escaped in the path.
        const standard = await rest(server, 'GET', '/v0/kv/key/%2B%2F8%3D');
        assert.equal(standard.text, read.text);
      });

      test('unknown fields and nulls are ignored', async () => {
        const stored = await rest(server, 'POST', '/v0/kv', {
          body: '{"key":"aw==","value":null,"extra":{"nested":[1,2,{"x":"y"}]},"ttl":5}',
        });
        assert.equal(stored.status, 200, stored.text);
        const read = await rest(server, 'GET', '/v0/kv/key/aw==');
        assert.equal(read.text, '{"key":"aw==","value":"","revision":"1"}');
      });

      test('what follows the first JSON value is ignored, as Go’s json.Decoder leaves it unread', async () => {
        const stored = await rest(server, 'POST', '/v0/kv', {
          body: '{"key":"aw==","value":"dg=="} trailing',
        });
        assert.equal(stored.status, 200, stored.text);
      });

      test('an empty body is an empty message: Put then refuses the empty key', async () => {
        const response = await rest(server, 'POST', '/v0/kv', { body: '  \n' });
        assert.equal(response.status, 400);
        assert.equal(response.text, errorBody(3, 'key must not be empty'));
      });
    });

    describe('bad input', () => {
      const putBody = (body: string) => rest(server, 'POST', '/v0/kv', { body, headers: FORM });

      test('bad base64 in a body field is 400 code 3 naming the field, as protojson words it', async () => {
        const response = await putBody('{"key":"!!!","value":""}');
        assert.equal(response.status, 400);
        assert.equal(
          response.text,
          errorBody(3, 'proto: (line 1:8): invalid value for bytes field key: "!!!"'),
        );
        const multiline = await putBody('{\n  "key": "aw==",\n  "value": 12\n}');
        assert.equal(
          multiline.text,
          errorBody(3, 'proto: (line 3:12): invalid value for bytes field value: 12'),
        );
        const mixed = await putBody('{"key":"+_8="}');
        assert.equal(
          mixed.text,
          errorBody(3, 'proto: (line 1:8): invalid value for bytes field key: "+_8="'),
        );
      });

      test('booleans must be JSON booleans, not strings', async () => {
        const response = await rest(server, 'POST', '/v0/kv/cas', {
          body: '{"key":"aw==","expectedAbsent":"true"}',
        });
        assert.equal(response.status, 400);
        assert.equal(
          response.text,
          errorBody(3, 'proto: (line 1:32): invalid value for bool field expectedAbsent: "true"'),
        );
      });

      test('the same field under both its names is a duplicate', async () => {
        const response = await rest(server, 'POST', '/v0/kv/cas', {
          body: '{"key":"aw==","expectedValue":"","expected_value":""}',
        });
        assert.equal(response.status, 400);
        assert.equal(response.text, errorBody(3, 'proto: (line 1:34): duplicate field "expected_value"'));
      });

      test('malformed JSON is 400 code 3 with encoding/json’s message', async () => {
        const cases: Array<[string, string]> = [
          ['{"key":', 'unexpected EOF'],
          ['{key:1}', "invalid character 'k' looking for beginning of object key string"],
          ['not json', "invalid character 'o' in literal null (expecting 'u')"],
          ['{"key" "aw=="}', `invalid character '"' after object key`],
          ['{"key":"aw==",}', "invalid character '}' looking for beginning of object key string"],
          ['key=aGk%3D', "invalid character 'k' looking for beginning of value"],
          ['[1,2', 'unexpected EOF'],
          ['[]', 'proto: syntax error (line 1:1): unexpected token ['],
          ['"aGk="', 'proto: syntax error (line 1:1): unexpected token "aGk="'],
          ['null', 'proto: syntax error (line 1:1): unexpected token null'],
        ];
        for (const [body, message] of cases) {
          const response = await putBody(body);
          assert.equal(response.status, 400, body);
          assert.equal(response.text, errorBody(3, message), body);
        }
      });

      test('bad base64 in the path is 400 with grpc-gateway’s parameter message', async () => {
        const response = await rest(server, 'GET', '/v0/kv/key/a!b');
        assert.equal(response.status, 400);
        assert.equal(
          response.text,
          errorBody(3, 'type mismatch, parameter: key, error: illegal base64 data at input byte 1'),
        );
      });

      test('an empty key is 400, in the body and in the path', async () => {
        assert.equal((await putBody('{"value":"dg=="}')).text, errorBody(3, 'key must not be empty'));
        const path = await rest(server, 'GET', '/v0/kv/key/');
        assert.equal(path.status, 400);
        assert.equal(path.text, errorBody(3, 'key must not be empty'));
      });

      test('an oversize key or value is 400 and the message names the size and the limit', async () => {
        const bigKey = await put(Buffer.alloc(2000, 'k'), 'v');
        assert.equal(bigKey.status, 400);
        assert.equal(bigKey.text, errorBody(3, `key is 2000 bytes; the limit is ${MAX_KEY_BYTES}`));
        const bigValue = await put('k', Buffer.alloc(MAX_VALUE_BYTES + 1));
        assert.equal(bigValue.status, 400);
        assert.equal(
          bigValue.text,
          errorBody(3, `value is ${MAX_VALUE_BYTES + 1} bytes; the limit is ${MAX_VALUE_BYTES}`),
        );
        // Values at the limit, two of them in one CompareAndSwap, fit in the body caps.
        const atLimit = await put(Buffer.alloc(MAX_KEY_BYTES, 'k'), Buffer.alloc(MAX_VALUE_BYTES, 1));
        assert.equal(atLimit.status, 200, atLimit.text);
        const cas = await rest(server, 'POST', '/v0/kv/cas', {
          body: JSON.stringify({
            key: b64(Buffer.alloc(MAX_KEY_BYTES, 'k')),
            expectedValue: b64(Buffer.alloc(MAX_VALUE_BYTES, 1)),
            value: b64(Buffer.alloc(MAX_VALUE_BYTES, 2)),
          }),
        });
        assert.equal(cas.status, 200, cas.text.slice(0, 200));
        assert.equal((cas.json as { swapped: boolean }).swapped, true);
        assert.equal(backend.calls.filter((c) => c.op !== 'put' && c.op !== 'compareAndSwap').length, 0);
      });

      test('a body over the cap is refused with 400, and the server keeps serving', async () => {
        const declared = await rest(server, 'POST', '/v0/kv', {
          body: Buffer.alloc(PUT_BODY_LIMIT_BYTES + 1, 0x20),
        });
        assert.equal(declared.status, 400);
        assert.equal(
          declared.text,
          errorBody(3, `request body is larger than ${PUT_BODY_LIMIT_BYTES} bytes, the limit for a Put`),
        );
        // The same without a Content-Length: a chunked body that keeps coming.
        const chunk = Buffer.alloc(256 * 1024, 0x20);
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent > CAS_BODY_LIMIT_BYTES * 2) controller.close();
            else {
              sent += chunk.length;
              controller.enqueue(chunk);
            }
          },
        });
        const chunked = await fetch(`${server.url}/v0/kv/cas`, {
          method: 'POST',
          body: stream,
          duplex: 'half',
        } as RequestInit);
        assert.equal(chunked.status, 400);
        assert.match(await chunked.text(), /the limit for a CompareAndSwap/);
        assert.equal((await rest(server, 'GET', '/v0/cluster/status')).status, 200);
        assert.equal(backend.calls.length, 0);
      });
      test('a client that hangs up mid-body is dropped quietly, and the server keeps serving', async () => {
        const { port } = new URL(server.url);
        await new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write('POST /v0/kv HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"key":');
            setTimeout(() => socket.destroy(), 20);
          });
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
        assert.equal((await rest(server, 'GET', '/v0/cluster/status')).status, 200);
        await server.settle();
        assert.deepEqual(recorder.entries, []);
        assert.equal(backend.calls.length, 0);
      });

      test('random bytes as a body are answered with 200 or 400, never a 500', async () => {
        // A small seeded generator, so a failure replays.
        let seed = 12345;
        const next = () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed;
        };
        const alphabet = '{}[]":,\\ aeflnrstu0123456789+-._=/AZaz\u00e9\n';
        for (let i = 0; i < 300; i++) {
          const length = next() % 40;
          let body = '';
          for (let j = 0; j < length; j++) body += alphabet[next() % alphabet.length];
          if (i % 3 === 0) body = `{"key":"aw==","value":${body}}`;
          const path = i % 2 === 0 ? '/v0/kv' : '/v0/kv/cas';
          const response = await rest(server, 'POST', path, { body, headers: FORM });
          assert.ok(response.status === 200 || response.status === 400, `${response.status} for ${body}`);
          const parsed = response.json as { code?: number } | undefined;
          assert.ok(parsed !== undefined, `not JSON: ${response.text}`);
          if (response.status === 400) assert.equal(parsed.code, 3);
        }
        await server.settle();
        assert.deepEqual(recorder.entries, []);
      });
    });

    describe('query parameters', () => {
      test('consistency by name or number reaches the backend; LINEARIZABLE is the default', async () => {
        await put('k', 'v');
        for (const query of [
          '',
          '?consistency=SERIALIZABLE',
          '?consistency=1',
          '?consistency=LINEARIZABLE',
        ]) {
          assert.equal((await rest(server, 'GET', `/v0/kv/key/aw==${query}`)).status, 200);
        }
        assert.deepEqual(
          backend.calls.filter((c) => c.op === 'get').map((c) => c.consistency),
          [
            ReadConsistency.Linearizable,
            ReadConsistency.Serializable,
            ReadConsistency.Serializable,
            ReadConsistency.Linearizable,
          ],
        );
      });

      test('bad parameters are 400 with grpc-gateway’s messages; unknown ones are ignored', async () => {
        const cases: Array<[string, string]> = [
          ['/v0/kv/key/aw==?consistency=BOGUS', 'parsing field "consistency": "BOGUS" is not a valid value'],
          [
            '/v0/kv/key/aw==?consistency=serializable',
            'parsing field "consistency": "serializable" is not a valid value',
          ],
          ['/v0/kv?limit=ten', 'parsing field "limit": strconv.ParseUint: parsing "ten": invalid syntax'],
          ['/v0/kv?limit=-1', 'parsing field "limit": strconv.ParseUint: parsing "-1": invalid syntax'],
          [
            '/v0/kv?limit=4294967296',
            'parsing field "limit": strconv.ParseUint: parsing "4294967296": value out of range',
          ],
          ['/v0/kv?limit=1&limit=2', 'too many values for field "limit": 1, 2'],
          ['/v0/kv?prefix=a!', 'parsing field "prefix": illegal base64 data at input byte 1'],
          ['/v0/kv?prefix=%zz', 'invalid URL escape "%zz"'],
          ['/v0/kv?limit.x=1', 'invalid path: "limit" is not a message'],
        ];
        for (const [path, message] of cases) {
          const response = await rest(server, 'GET', path);
          assert.equal(response.status, 400, path);
          assert.equal(response.text, errorBody(3, message), path);
        }
        const ignored = await rest(server, 'GET', '/v0/kv?foo=bar&key=zzz&ttl=1');
        assert.equal(ignored.status, 200);
      });

      test('a form-urlencoded POST to a GET route is served as that GET, its body holding the parameters', async () => {
        await put('k', 'v');
        const status = await rest(server, 'POST', '/v0/cluster/status', { headers: FORM, body: '' });
        assert.equal(status.status, 200);
        assert.equal((status.json as { nodeId: string }).nodeId, 'a');
        const read = await rest(server, 'POST', '/v0/kv/key/aw==', {
          headers: FORM,
          body: 'consistency=SERIALIZABLE',
        });
        assert.equal(read.status, 200, read.text);
        assert.equal(backend.calls.at(-1)?.consistency, ReadConsistency.Serializable);
        // Without the form Content-Type it is the wrong method.
        const json = await rest(server, 'POST', '/v0/kv/key/aw==', { headers: JSON_TYPE, body: '{}' });
        assert.equal(json.status, 501);
      });
    });

    describe('routing', () => {
      test('an unknown path is a JSON 404 with code 5', async () => {
        for (const path of ['/nope', '/v0/kv/', '/v0/kv/key/a/b', '/v0/KV', '/v1/kv']) {
          const response = await rest(server, 'GET', path);
          assert.equal(response.status, 404, path);
          assert.equal(response.text, errorBody(5, 'Not Found'), path);
          assert.equal(response.headers.get('content-type'), 'application/json');
        }
      });

      test('a known path with the wrong method is 501 with code 12', async () => {
        for (const [method, path] of [
          ['PUT', '/v0/kv'],
          ['DELETE', '/v0/kv/cas'],
          ['GET', '/v0/kv/cas'],
          ['POST', '/v0/kv/key/aw=='],
          ['PATCH', '/v0/cluster/status'],
        ] as const) {
          const response = await rest(server, method, path, method === 'GET' ? {} : { body: '{}' });
          assert.equal(response.status, 501, `${method} ${path}`);
          assert.equal(response.text, errorBody(12, 'Method Not Allowed'), `${method} ${path}`);
        }
      });

      test('a malformed escape in the path is 400', async () => {
        const response = await rest(server, 'GET', '/v0/kv/key/%E0%A4%A');
        assert.equal(response.status, 400);
        assert.equal(response.text, errorBody(3, 'Bad Request'));
      });
    });

    describe('backend failures and deadlines', () => {
      test('UNAVAILABLE is 503 code 14 with the reason', async () => {
        backend.fault = unavailable('no leader: the last election timed out');
        const response = await put('k', 'v');
        assert.equal(response.status, 503);
        assert.equal(response.text, errorBody(14, 'no leader: the last election timed out'));
      });

      test('DEADLINE_EXCEEDED is 504 code 4', async () => {
        backend.fault = deadlineExceeded('the write was not committed in time');
        const response = await put('k', 'v');
        assert.equal(response.status, 504);
        assert.equal(response.text, errorBody(4, 'the write was not committed in time'));
      });

      test('an unexpected error is 500 code 13 with a generic message; the details are logged only', async () => {
        backend.fault = new Error('EACCES: /var/lib/dkv/secret.mdb');
        const response = await rest(server, 'GET', '/v0/kv/key/aw==');
        assert.equal(response.status, 500);
        assert.equal(response.text, errorBody(13, 'internal error'));
        assert.doesNotMatch(response.text, /secret/);
        await server.settle();
        assert.equal(recorder.entries.length, 1);
        assert.match(JSON.stringify(recorder.entries[0]), /secret\.mdb/);
        const status = await rest(server, 'GET', '/v0/cluster/status');
        assert.equal(status.text, errorBody(13, 'internal error'));
      });

      test('every request carries a deadline of now + requestTimeoutMs to the backend', async () => {
        const start = Date.now();
        await put('k', 'v');
        const deadline = backend.calls[0]!.deadlineMs;
        assert.ok(deadline >= start + 2000 && deadline <= Date.now() + 2000, `${deadline - start}`);
      });

      test('a Grpc-Timeout header sets the deadline; a malformed one is 400', async () => {
        backend.stall = true;
        const start = Date.now();
        const response = await rest(server, 'GET', '/v0/kv/key/aw==', {
          headers: { 'Grpc-Timeout': '100m' },
        });
        assert.equal(response.status, 504);
        assert.equal((response.json as { code: number }).code, 4);
        assert.ok(Date.now() - start < 1500);
        assert.ok(Math.abs(backend.calls[0]!.deadlineMs - (start + 100)) < 100);
        const bad = await rest(server, 'GET', '/v0/kv/key/aw==', { headers: { 'Grpc-Timeout': '5x' } });
        assert.equal(bad.status, 400);
        assert.equal(bad.text, errorBody(3, 'invalid grpc-timeout: 5x'));
      });

      test('a backend that ignores its deadline still gets the client a 504 soon after it', async () => {
        backend.hang = true;
        const start = Date.now();
        const response = await rest(server, 'POST', '/v0/kv', {
          body: '{"key":"aw=="}',
          headers: { 'Grpc-Timeout': '150m' },
        });
        assert.equal(response.status, 504);
        assert.equal((response.json as { code: number }).code, 4);
        assert.ok(Date.now() - start < 1500);
      });
    });
  });

  describe(`operator size limits (DKV_MAX_KEY_BYTES, DKV_MAX_VALUE_BYTES) (${kind})`, () => {
    test('lowered limits are enforced with messages naming them', async () => {
      const server = await startRest(new MemoryBackend(), {
        limits: { maxKeyBytes: 8, maxValueBytes: 16 },
        kind,
      });
      try {
        const put = (key: string, value: string) =>
          fetch(`${server.url}/v0/kv`, {
            method: 'POST',
            body: JSON.stringify({
              key: Buffer.from(key).toString('base64'),
              value: Buffer.from(value).toString('base64'),
            }),
          }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { code?: number; message?: string },
          }));
        assert.equal((await put('12345678', '0123456789abcdef')).status, 200);
        const longKey = await put('123456789', 'v');
        assert.equal(longKey.status, 400);
        assert.equal(longKey.body.message, 'key is 9 bytes; the limit is 8');
        const longValue = await put('k', '0123456789abcdefg');
        assert.equal(longValue.status, 400);
        assert.equal(longValue.body.message, 'value is 17 bytes; the limit is 16');
      } finally {
        await server.close();
      }
    });
  });
}
