import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/heap-growth.js';

describe('heap growth bound', () => {
  it('sets V8 heap growing percent unless the command line chose one', () => {
    assert.equal(heapGrowthFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag(['--import', 'tsx']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag(['--heap-growing-percent=30']), null);
    assert.equal(heapGrowthFlag(['--heap_growing_percent=30']), null);
    assert.equal(heapGrowthFlag(['--heap-growing-percent', '30']), null);
  });

  it("names a flag this Node's V8 knows (setFlagsFromString ignores unknown ones silently)", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    assert.match(options, /^\s+--heap-growing-percent \(specifies heap growing factor/m);
  });
});
