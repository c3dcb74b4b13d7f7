/** The test parser of the Prometheus text format accepts the format and rejects what breaks it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PromTextError, parsePromText, total, value } from '../../scripts/prom-text.js';

const GOOD = `# HELP req_total Requests, with a \\\\ and a \\n in the help.
# TYPE req_total counter
req_total{method="GET",path="/a\\"b\\\\c\\nd"} 3
req_total{method="POST",path="/"} 4 1700000000000
# a plain comment
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 1
lat_seconds_bucket{le="1"} 2
lat_seconds_bucket{le="+Inf"} 3
lat_seconds_sum 4.5
lat_seconds_count 3
up NaN
temp -1.5e-3
`;

describe('parsePromText', () => {
  it('parses HELP, TYPE, labels with escapes, values, timestamps and histograms', () => {
    const f = parsePromText(GOOD);
    assert.equal(f.get('req_total')?.type, 'counter');
    assert.equal(f.get('req_total')?.help, 'Requests, with a \\ and a \n in the help.');
    assert.equal(value(f, 'req_total', { path: '/a"b\\c\nd' }), 3);
    assert.equal(total(f, 'req_total'), 7);
    assert.equal(value(f, 'lat_seconds_count'), 3);
    assert.equal(value(f, 'lat_seconds_bucket', { le: '1' }), 2);
    assert.ok(Number.isNaN(value(f, 'up')));
    assert.equal(value(f, 'temp'), -0.0015);
    assert.equal(f.get('up')?.type, 'untyped');
  });

  const bad: [string, string, RegExp][] = [
    ['no final newline', 'a 1', /last line/],
    ['bad metric name', '1a 1\n', /not a sample|bad metric name/],
    ['bad value', 'a one\n', /bad value/],
    ['unquoted label', 'a{b=c} 1\n', /not quoted/],
    ['bad label name', 'a{1b="c"} 1\n', /bad label name/],
    ['bad escape', 'a{b="\\t"} 1\n', /bad escape/],
    ['unterminated label', 'a{b="c} 1\n', /unterminated|expected/],
    ['duplicate series', 'a{b="c"} 1\na{b="c"} 2\n', /duplicate series/],
    ['unknown type', '# TYPE a thing\na 1\n', /unknown type/],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n', /after its samples/],
    ['second HELP', '# HELP a x\n# HELP a y\na 1\n', /second HELP/],
    ['family split', 'a 1\nb 1\na{x="1"} 1\n', /appears again/],
    ['negative counter', '# TYPE c_total counter\nc_total -1\n', /counter/],
    ['missing value', 'a{b="c"}\n', /expected/],
    [
      'buckets not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /not cumulative/,
    ],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /\+Inf/],
    [
      '+Inf differs from _count',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
      /differs from _count/,
    ],
    ['no _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', /without _sum/],
    ['no _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\n', /without _count/],
    ['bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n', /without le/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parsePromText(text),
        (e: unknown) => e instanceof PromTextError && message.test(e.message),
      );
    });
  }
});
