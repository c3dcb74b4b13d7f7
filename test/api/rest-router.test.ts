/**
 * Route matching, including the table of paths without parameters that the hot routes take: it
 * must give what splitting and matching segment by segment gives, and step aside for form posts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate, type Route, RouteTable } from '../../src/api/rest-router.js';

const route = (method: string, template: string): Route<string> => ({
  method,
  template,
  segments: parseTemplate(template),
  handler: `${method} ${template}`,
});

const ROUTES = [
  route('POST', '/v0/kv'),
  route('GET', '/v0/kv/key/{key}'),
  route('GET', '/v0/kv'),
  route('GET', '/v0/cluster/status'),
  route('POST', '/v0/cluster/{op}'),
  route('POST', '/v0/cluster/leader'),
];

const TABLE = new RouteTable(ROUTES);

const JSON_HEADERS = { contentType: 'application/json', methodOverride: undefined };
const FORM_HEADERS = { contentType: 'application/x-www-form-urlencoded', methodOverride: undefined };

describe('REST routing', () => {
  test('a literal path is matched with no parameters, and the first route in order wins', () => {
    const put = TABLE.match('POST', '/v0/kv', JSON_HEADERS);
    assert.deepEqual(put, { kind: 'match', route: ROUTES[0], params: {}, formFallback: false });
    // /v0/cluster/{op} comes first, so it takes /v0/cluster/leader: the table keeps that order.
    const leader = TABLE.match('POST', '/v0/cluster/leader', JSON_HEADERS);
    assert.equal(leader.kind === 'match' && leader.route.template, '/v0/cluster/{op}');
    assert.deepEqual(leader.kind === 'match' && leader.params, { op: 'leader' });
  });

  test('the shared match of a literal path cannot be changed by a caller', () => {
    const a = TABLE.match('GET', '/v0/kv', { contentType: undefined, methodOverride: undefined });
    assert.ok(a.kind === 'match');
    assert.throws(() => {
      (a.params as Record<string, string>).key = 'x';
    }, TypeError);
    const b = TABLE.match('GET', '/v0/kv', JSON_HEADERS);
    assert.deepEqual(b.kind === 'match' && b.params, {});
  });

  test('escaped and parameter paths, form posts and overrides are matched segment by segment', () => {
    const escaped = TABLE.match('GET', '/v0/%6Bv', JSON_HEADERS);
    assert.equal(escaped.kind === 'match' && escaped.route, ROUTES[2]);
    const key = TABLE.match('GET', '/v0/kv/key/a%2Fb', JSON_HEADERS);
    assert.deepEqual(key.kind === 'match' && key.params, { key: 'a/b' });
    // A form POST to a GET-only path is that GET; a form POST to a POST route stays a POST.
    const status = TABLE.match('POST', '/v0/cluster/status', FORM_HEADERS);
    assert.equal(status.kind === 'match' && status.route.template, '/v0/cluster/{op}');
    const form = TABLE.match('POST', '/v0/kv', FORM_HEADERS);
    assert.deepEqual(form, { kind: 'match', route: ROUTES[0], params: {}, formFallback: false });
    const overridden = TABLE.match('POST', '/v0/kv', { ...FORM_HEADERS, methodOverride: 'get' });
    assert.deepEqual(overridden, { kind: 'match', route: ROUTES[2], params: {}, formFallback: false });
    assert.equal(TABLE.match('DELETE', '/v0/kv', JSON_HEADERS).kind, 'method-not-allowed');
    assert.equal(TABLE.match('POST', '/v0/nothing', JSON_HEADERS).kind, 'not-found');
    assert.equal(TABLE.match('GET', '/v0/%zz', JSON_HEADERS).kind, 'bad-request');
  });

  test('the lookup table agrees with matching segment by segment, every path and method', () => {
    // A form Content-Type keeps every request off the table; for methods other than POST it
    // changes nothing else, so both answers must be the same.
    const paths = [...ROUTES.map((r) => r.template.replace(/\{[^}]*\}/g, 'x')), '/v0', '/v0/kv/', '/'];
    for (const method of ['GET', 'DELETE', 'PUT', 'PATCH', 'HEAD']) {
      for (const path of paths) {
        assert.deepEqual(
          TABLE.match(method, path, JSON_HEADERS),
          TABLE.match(method, path, FORM_HEADERS),
          `${method} ${path}`,
        );
      }
    }
  });
});
