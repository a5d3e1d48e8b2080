import { strict as assert } from 'node:assert';
import { Rng } from '../../../ts/util/rng.ts';
import { int, num, oneOf, parseIntFlag, parseListFlag } from '../../../ts/util/is.ts';
import { UsageError, QrobustError, exitCodeOf, invalidOption, oneLine } from '../../../ts/util/errors.ts';

describe('util/rng', () => {
  it('same seed gives the same stream; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
  });

  it('uniform is in [0,1) with mean ~0.5; int is unbiased over a small range', () => {
    const r = new Rng(1);
    let sum = 0;
    const counts = new Array(7).fill(0);
    const n = 70000;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      assert.ok(u >= 0 && u < 1);
      sum += u;
      counts[r.int(7)]++;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01);
    for (const k of counts) assert.ok(Math.abs(k - n / 7) < 5 * Math.sqrt(n / 7), `bucket ${k}`);
  });

  it('normal has mean 0 and variance 1', () => {
    const r = new Rng(7);
    let s = 0, s2 = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) { const x = r.normal(); s += x; s2 += x * x; }
    assert.ok(Math.abs(s / n) < 0.02);
    assert.ok(Math.abs(s2 / n - 1) < 0.03);
  });

  it('permutation is a permutation and is seed-determined; fork is independent and stable', () => {
    const p = new Rng(5).permutation(1000);
    assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(Array.from(new Rng(5).permutation(1000)), Array.from(p));
    const parent = new Rng(9);
    const f1 = parent.fork('suite').nextU32();
    assert.equal(new Rng(9).fork('suite').nextU32(), f1);
    assert.notEqual(new Rng(9).fork('other').nextU32(), f1);
  });

  it('rejects bad seeds', () => {
    assert.throws(() => new Rng(-1), /seed/);
    assert.throws(() => new Rng(1.5), /seed/);
  });
});

describe('util/is and errors', () => {
  it('names the option, the allowed values and what was received', () => {
    assert.throws(() => int('severity', 7, 1, 5), (e: unknown) => e instanceof UsageError && e.message === 'Expected integer 1..5 for severity but received 7 of type number');
    assert.throws(() => oneOf('--suite', 'nope', ['clean', 'systematic']), /Expected one of clean, systematic for --suite but received 'nope' of type string/);
    assert.throws(() => num('eps', Number.NaN, 0, 1), /for eps/);
    assert.throws(() => parseIntFlag('--batch', '12x'), /Expected an integer for --batch but received '12x'/);
    assert.deepEqual(parseListFlag('--bits', '2, 4,8', ['2', '4', '6', '8']), ['2', '4', '8']);
    assert.throws(() => parseListFlag('--bits', '3', ['2', '4', '6', '8']), /--bits/);
    assert.equal(parseIntFlag('--batch', '64', 1), 64);
  });

  it('maps errors to exit codes and one line', () => {
    assert.equal(exitCodeOf(invalidOption('x', 'y', 1)), 2);
    assert.equal(exitCodeOf(new QrobustError('boom')), 1);
    assert.equal(exitCodeOf(new Error('other')), 1);
    assert.equal(oneLine(new Error('a\n  b')), 'a b');
  });
});
