import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from './simulation.js';

/**
 * Register one test per batch of seeds in [from, to]: each asserts that no
 * seed violates a safety or liveness property, naming the seeds that did and
 * how to replay them.
 */
export function seedSuite(from: number, to: number, batch = 50): void {
  for (let lo = from; lo <= to; lo += batch) {
    const hi = Math.min(to, lo + batch - 1);
    test(`simulated seeds ${lo}..${hi}: no safety or liveness violation`, () => {
      const failures: string[] = [];
      let ops = 0;
      let faults = 0;
      for (let seed = lo; seed <= hi; seed++) {
        const r = runSimulation(seed);
        ops += r.clientOps;
        faults += r.faults;
        if (r.violations.length > 0) {
          failures.push(
            `seed ${seed} (replay: npm run sim -- --seeds 1 --start ${seed}):\n  ${r.violations.join('\n  ')}`,
          );
        }
      }
      assert.deepEqual(failures, [], failures.join('\n'));
      // A run that did nothing would pass vacuously: make sure the seeds exercised the cluster.
      assert.ok(ops > (hi - lo + 1) * 20, `only ${ops} client operations in ${hi - lo + 1} seeds`);
      assert.ok(faults > (hi - lo + 1) * 5, `only ${faults} faults in ${hi - lo + 1} seeds`);
    });
  }
}
