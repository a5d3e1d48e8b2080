import { strict as assert } from 'node:assert';
import { COLUMNS, CORRUPTIONS, FAMILY, TABLES, columnFor, npArange, parseColumn, severityParams } from '../../../ts/corrupt/index.ts';

describe('corrupt/tables', () => {
  it('lists the 15 corruptions in the reference order, 4 families', () => {
    assert.deepEqual([...CORRUPTIONS], ['gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'glass_blur', 'motion_blur',
      'zoom_blur', 'snow', 'frost', 'fog', 'brightness', 'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression']);
    assert.deepEqual(new Set(Object.values(FAMILY)), new Set(['noise', 'blur', 'weather', 'digital']));
  });

  it('has five entries per corruption in each of the 224 / 64 / 32 columns', () => {
    for (const id of CORRUPTIONS) for (const col of COLUMNS) assert.equal(TABLES[id][col].length, 5, `${id} ${col}`);
    assert.deepEqual(TABLES.gaussian_noise[224], [0.08, 0.12, 0.18, 0.26, 0.38]);
    assert.deepEqual(TABLES.jpeg_compression[32], [80, 65, 58, 50, 40]);
    assert.equal(TABLES.elastic_transform[224][0][1], 244 * 0.7); // written as the reference writes it
  });

  it("reproduces numpy's arange length quirk (ImageNet s1 zoom list has 12 values incl. 1.0 and 1.11)", () => {
    const z = npArange(1, 1.11, 0.01);
    assert.equal(z.length, 12);
    assert.equal(z[0], 1);
    assert.ok(Math.abs(z[11]! - 1.11) < 1e-12);
    assert.deepEqual(TABLES.zoom_blur[224].map(([e, s]) => npArange(1, e, s).length), [12, 16, 11, 13, 11]);
  });

  it('chooses the column from the image size and parses overrides', () => {
    assert.equal(columnFor(224, 224), 224);
    assert.equal(columnFor(64, 64), 64);
    assert.equal(columnFor(32, 32), 32);
    assert.equal(columnFor(28, 28), 32);
    assert.equal(columnFor(100, 300), 64);
    assert.equal(columnFor(299, 299), 224);
    assert.equal(parseColumn('64'), 64);
    assert.throws(() => parseColumn(100), /Expected one of 224, 64, 32 for column but received 100/);
  });

  it('lets params be overridden per severity or as a whole table, checked', () => {
    assert.deepEqual(severityParams('fog', 2, 224), [2, 2]);
    assert.deepEqual(severityParams('fog', 2, 224, [1, 1]), [1, 1]);
    assert.equal(severityParams('contrast', 3, 224, [0.9, 0.8, 0.7, 0.6, 0.5]), 0.7);
    assert.equal(severityParams('contrast', 3, 224, 0.33), 0.33);
    assert.throws(() => severityParams('fog', 2, 224, [1]), /params of fog/);
  });
});
