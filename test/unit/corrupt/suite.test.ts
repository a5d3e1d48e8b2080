import { strict as assert } from 'node:assert';
import { corruptSample, corruptionCells, noiseRobustness, parseSeverities, sampleRng } from '../../../ts/corrupt/index.ts';
import { corruptFixtures } from './fixtures.ts';

describe('corrupt/suite helpers', () => {
  it('parses --severities and builds the 15 x 5 grid in the reference order', () => {
    assert.deepEqual(parseSeverities('1-5'), [1, 2, 3, 4, 5]);
    assert.deepEqual(parseSeverities('1,3,5'), [1, 3, 5]);
    assert.deepEqual(parseSeverities('2-3,5'), [2, 3, 5]);
    assert.throws(() => parseSeverities('0-6'), /--severities/);
    assert.throws(() => parseSeverities('4-2'), /--severities/);
    const cells = corruptionCells();
    assert.equal(cells.length, 75);
    assert.deepEqual(cells[0], { corruption: 'gaussian_noise', severity: 1 });
    assert.deepEqual(cells[74], { corruption: 'jpeg_compression', severity: 5 });
    assert.throws(() => corruptionCells(['nope']), /Unknown corruption 'nope'/);
  });

  it('NR is the mean over cells, with per-corruption means', () => {
    const r = noiseRobustness({ fog: { 1: 50, 2: 30 }, contrast: { 1: 10, 2: 10 } });
    assert.equal(r.nr, 25);
    assert.deepEqual(r.perCorruption, { fog: 40, contrast: 10 });
    assert.throws(() => noiseRobustness({}), /at least one cell/);
  });

  it('per-sample generators depend only on (seed, corruption, severity, index)', async function () {
    assert.equal(sampleRng(3, 'fog', 2, 9).uniform(), sampleRng(3, 'fog', 2, 9).uniform());
    assert.notEqual(sampleRng(3, 'fog', 2, 9).uniform(), sampleRng(3, 'fog', 2, 10).uniform());
    if (!corruptFixtures()) return this.skip();
    const img = { data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32, channels: 3 };
    const a = await corruptSample(img, { corruption: 'gaussian_noise', severity: 2 }, 1, 4);
    const b = await corruptSample(img, { corruption: 'gaussian_noise', severity: 2 }, 1, 4);
    assert.deepEqual(a.data, b.data);
    const j = await corruptSample(img, { corruption: 'gaussian_noise', severity: 2 }, 1, 4, { releasedJpeg: true });
    assert.equal(j.data.length, a.data.length);
    assert.notDeepEqual(j.data, a.data);
  });
});
