import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { CORRUPTIONS, FROST_FILES, corrupt, corruptionDef, frostTexture, type Image8 } from '../../../ts/corrupt/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { FROST_DIR, corruptFixtures, corruptSkipReason } from './fixtures.ts';

function scene(side: number): Image8 {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      data[i] = Math.round(127 + 100 * Math.sin(x / 9));
      data[i + 1] = Math.round(127 + 100 * Math.cos(y / 13));
      data[i + 2] = (x + y) % 256;
    }
  }
  return { data, width: side, height: side, channels: 3 };
}

const RANDOM = new Set(['gaussian_noise', 'shot_noise', 'impulse_noise', 'glass_blur', 'motion_blur', 'snow', 'frost', 'fog', 'elastic_transform']);

describe('corrupt', function () {
  this.timeout(60000);
  before(function () {
    if (!corruptFixtures()) {
      // eslint-disable-next-line no-console
      console.log(`      skipped: ${corruptSkipReason()}`);
      this.skip();
    }
  });

  for (const side of [224, 64, 32]) {
    it(`all 15 at ${side}: shape kept, seeded (same seed same output), severity changes the image`, async () => {
      const img = scene(side);
      for (const id of CORRUPTIONS) {
        const a = await corrupt(img, id, 3, new Rng(5));
        const b = await corrupt(img, id, 3, new Rng(5));
        assert.equal(a.data.length, img.data.length, id);
        assert.deepEqual(a.data, b.data, `${id}: not deterministic for a fixed seed`);
        if (RANDOM.has(id)) {
          const c = await corrupt(img, id, 3, new Rng(6));
          assert.notDeepEqual(a.data, c.data, `${id}: the seed does not matter`);
        }
        assert.notDeepEqual(a.data, img.data, `${id}: unchanged`);
      }
    });
  }

  it('non-square images (80 wide, 48 high): all 15 run and keep the shape', async () => {
    const data = new Uint8Array(48 * 80 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
    const img = { data, width: 80, height: 48, channels: 3 };
    for (const id of CORRUPTIONS) {
      const out = await corrupt(img, id, 4, new Rng(2));
      assert.equal(out.width, 80, id);
      assert.equal(out.height, 48, id);
      assert.equal(out.data.length, data.length, id);
    }
  });

  it('deterministic corruptions take no draws', async () => {
    const img = scene(32);
    for (const id of ['defocus_blur', 'zoom_blur', 'brightness', 'contrast', 'pixelate', 'jpeg_compression'] as const) {
      const rng = new Rng(1);
      const before = rng.nextU32();
      const r2 = new Rng(1);
      await corruptionDef(id).draw(r2, img, undefined as never, { column: 32 });
      assert.equal(r2.nextU32(), before, id);
    }
  });

  it('procedural frost textures: five, with the photographs\' sizes, the same every time', async () => {
    const sizes = [];
    for (let k = 0; k < 5; k++) {
      const t = await frostTexture(k);
      sizes.push([t.width, t.height]);
      assert.equal(t.data.length, t.width * t.height * 3);
    }
    assert.deepEqual(sizes, [[900, 600], [560, 315], [560, 315], [527, 350], [660, 495]]);
  });

  it('--frost-dir: draws only the first five photographs, crops inside them', async function () {
    if (!existsSync(`${FROST_DIR}/frost1.png`)) {
      // eslint-disable-next-line no-console
      console.log(`      skipped: the reference frost photographs are not in ${FROST_DIR}`);
      return this.skip();
    }
    const img = scene(224);
    const seen = new Set<number>();
    const rng = new Rng(9);
    for (let i = 0; i < 40; i++) {
      const d = await corruptionDef('frost').draw(rng, img, [1, 0.4], { column: 224, frostDir: FROST_DIR }) as { index: number; top: number; left: number };
      seen.add(d.index);
      const t = await frostTexture(d.index, FROST_DIR);
      assert.ok(d.top >= 0 && d.top + 224 <= t.height && d.left >= 0 && d.left + 224 <= t.width);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
    assert.equal(FROST_FILES.length, 5);
    const out = await corrupt(img, 'frost', 5, new Rng(1), { frostDir: FROST_DIR });
    assert.equal(out.data.length, img.data.length);
  });
});
