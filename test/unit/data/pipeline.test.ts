import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { preprocess as sysPreprocess } from '../../../ts/systematic/preprocess.ts';
import {
  openDataset, buildBatch, iterateBatches, selectSubset, batchOrder, shuffled, registerPreprocess, preprocessProvider,
  createPreprocess, preprocessIds, rawInput, type PreprocessProvider,
} from '../../../ts/data/index.ts';
import { onecropGeometry, onecropShorterSide, roundHalfEven, SHARP_STANDIN_ID } from '../../../ts/data/preprocess.ts';
import { cifarTrainInput, imagenetTrainInput } from '../../../ts/data/augment.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { cifarPixel, freshDir, writeCifarBatch, writeJpeg, writePng } from './fixtures.ts';

describe('data: preprocess hook (dec-pil is the exact Pillow pipeline; the sharp stand-in stays as an id)', () => {
  it('ONECROP geometry: shorter side floor(8S/7), longer side truncated, centre offsets rounded half to even', () => {
    assert.equal(onecropShorterSide(32), 36);
    assert.equal(onecropShorterSide(224), 256);
    assert.deepEqual(onecropGeometry(64, 64, 32), { rw: 36, rh: 36, left: 2, top: 2 });
    // 500x375 -> 341x256; (341-224)/2 = 58.5 -> 58 (half to even); (256-224)/2 = 16
    assert.deepEqual(onecropGeometry(500, 375, 224), { rw: 341, rh: 256, left: 58, top: 16 });
    assert.deepEqual([roundHalfEven(0.5), roundHalfEven(1.5), roundHalfEven(2.5), roundHalfEven(2.4)], [0, 2, 2, 2]);
  });

  it('the default id dec-pil is the exact Pillow pipeline of ts/systematic; the stand-in is its own id', () => {
    const p = preprocessProvider();
    assert.equal(p.id, 'dec-pil');
    assert.equal(p.standIn, false);
    assert.doesNotMatch(p.impl, /sharp-standin/);
    const s = preprocessProvider(SHARP_STANDIN_ID);
    assert.equal(s.standIn, true);
    assert.match(s.describe, /STAND-IN/);
    assert.match(s.impl, /^sharp-standin\//);
    assert.ok(preprocessIds().includes(SHARP_STANDIN_ID));
    assert.throws(() => preprocessProvider('dec-nope'), /Expected one of .*dec-pil.* for preprocess but received 'dec-nope'/);
  });

  it('gives S x S x 3: decodes, resizes, crops; constants stay exact; S x S inputs go through ONECROP too; grey becomes RGB', async () => {
    const d = freshDir('preprocess');
    const { encoded, pixels } = createPreprocess('dec-pil', 32);
    const file = join(d, 'wide.png');
    const flat = new Uint8Array(80 * 50 * 3).fill(0);
    for (let i = 0; i < flat.length; i += 3) flat.set([10, 200, 77], i);
    await sharp(flat, { raw: { width: 80, height: 50, channels: 3 } }).png().toFile(file);
    const out = await encoded(await sharp(file).toBuffer(), file);
    assert.deepEqual([out.width, out.height, out.channels, out.data.length], [32, 32, 3, 3072]);
    for (let i = 0; i < out.data.length; i += 3) assert.deepEqual([out.data[i], out.data[i + 1], out.data[i + 2]], [10, 200, 77]);
    // a 32x32 input is enlarged to 36x36 and cropped at (2, 2): not the identity, but close to it
    const px = await writePng(join(d, 'exact.png'), 9, 32, 32);
    const o32 = await encoded(await sharp(join(d, 'exact.png')).toBuffer(), 'exact.png');
    assert.deepEqual([o32.width, o32.height], [32, 32]);
    assert.notDeepEqual(o32.data, px);
    const grey = await pixels({ data: Uint8Array.from({ length: 28 * 28 }, (_, i) => i % 256), width: 28, height: 28, channels: 1 }, 'g');
    assert.deepEqual([grey.width, grey.height], [32, 32]);
    for (let i = 0; i < grey.data.length; i += 3) assert.ok(grey.data[i] === grey.data[i + 1] && grey.data[i] === grey.data[i + 2]);
    await assert.rejects(encoded(Uint8Array.of(1, 2, 3), 'junk.jpg'), /Cannot decode image junk\.jpg/);
  });

  it('batches from JPEG files carry exactly what the Pillow-exact dec-pil of ts/systematic produces', async () => {
    const d = freshDir('preprocess-pil');
    await writeJpeg(join(d, 'c', 'a.jpg'), 3, 57, 43);
    const split = (await openDataset(`imagefolder:${d}`)).split('all');
    const b = await buildBatch(split, [0], { size: 16 });
    const bytes = new Uint8Array(readFileSync(join(d, 'c', 'a.jpg')));
    const want = await sysPreprocess(bytes, 'a.jpg', { pipeline: 'dec-pil', size: 16, mode: 'onecrop' });
    assert.equal(b.x.length, 3 * 16 * 16);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 256; i++) {
      assert.equal(b.x[c * 256 + i], Math.fround(want.data[i * 3 + c]! * Math.fround(1 / 255)), `c${c} i${i}`);
    }
  });

  it('a registered replacement is used by the batch builder without touching readers', async () => {
    const d = freshDir('preprocess-swap');
    await writePng(join(d, 'c', 'a.png'), 1, 40, 40);
    const split = (await openDataset(`imagefolder:${d}`)).split('all');
    const original = preprocessProvider('dec-pil');
    const fake: PreprocessProvider = {
      id: 'dec-pil', impl: 'fake/1', standIn: false, describe: 'test double',
      create: (size) => ({
        encoded: async () => ({ data: new Uint8Array(size * size * 3).fill(51), width: size, height: size, channels: 3 }),
        pixels: async () => ({ data: new Uint8Array(size * size * 3).fill(51), width: size, height: size, channels: 3 }),
      }),
    };
    assert.throws(() => registerPreprocess(fake), (e: unknown) => e instanceof UsageError && /already registered/.test((e as Error).message));
    registerPreprocess(fake, { replace: true });
    try {
      const b = await buildBatch(split, [0], { size: 8 });
      assert.ok(b.x.every((v) => Math.abs(v - 0.2) < 1e-7));
    } finally {
      registerPreprocess(original, { replace: true });
    }
    assert.equal(preprocessProvider('dec-pil').impl, original.impl);
  });
});

describe('data: subsets, shuffles, batches', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : i < 800 ? 1 : 2));

  it('stratified subsets are proportional, seeded, sorted and recorded', () => {
    const a = selectSubset(labels, 100, 7, { split: 'test' });
    const count = (ix: Int32Array, c: number): number => Array.from(ix).filter((i) => labels[i] === c).length;
    assert.deepEqual([0, 1, 2].map((c) => count(a.indices, c)), [50, 30, 20]);
    assert.deepEqual(selectSubset(labels, 100, 7).indices, a.indices);
    assert.notDeepEqual(selectSubset(labels, 100, 8).indices, a.indices);
    assert.ok(a.indices.every((v, i) => i === 0 || v > a.indices[i - 1]!));
    assert.equal(a.record.method, 'stratified');
    assert.deepEqual({ ...a.record, sha256: '' }, { method: 'stratified', seed: 7, split: 'test', n: 100, of: 1000, sha256: '' });
    assert.match(a.record.sha256, /^[0-9a-f]{16}$/);
    // largest remainder: 7 of (500, 300, 200) -> 3.5, 2.1, 1.4 -> 3, 2, 1, and the one left to class 0 (.5)
    assert.deepEqual([0, 1, 2].map((c) => count(selectSubset(labels, 7, 1).indices, c)), [4, 2, 1]);
  });

  it('plain subsets and no-limit', () => {
    const p = selectSubset(labels, 50, 3, { method: 'plain' });
    assert.equal(p.indices.length, 50);
    assert.equal(new Set(p.indices).size, 50);
    assert.equal(p.record.method, 'plain');
    assert.deepEqual(selectSubset(labels, 50, 3, { method: 'plain' }).indices, p.indices);
    const all = selectSubset(labels, undefined, 0);
    assert.equal(all.record.method, 'all');
    assert.equal(all.indices.length, 1000);
    assert.equal(selectSubset(labels, 5000, 0).record.method, 'all');
    assert.throws(() => selectSubset(labels, -1, 0), /for --test-limit but received -1/);
  });

  it('shuffles and batch orders are seeded permutations', () => {
    const ix = Int32Array.from({ length: 103 }, (_, i) => i);
    const s1 = shuffled(ix, new Rng(5));
    assert.deepEqual(shuffled(ix, new Rng(5)), s1);
    assert.notDeepEqual(shuffled(ix, new Rng(6)), s1);
    assert.deepEqual(Array.from(s1).sort((a, b) => a - b), Array.from(ix));
    const bo = batchOrder(ix, 10, { shuffle: new Rng(5) });
    assert.deepEqual(bo.map((b) => b.length), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    assert.deepEqual(Int32Array.from(bo.flatMap((b) => Array.from(b))), s1);
    assert.equal(batchOrder(ix, 10, { dropLast: true }).length, 10);
    assert.throws(() => batchOrder(ix, 0), /for --batch but received 0/);
  });

  it('cifar10 batches: NCHW in [0,1] equal to pixel/255, labels; augmentation seeded per sample', async () => {
    const d = freshDir('batch-cifar');
    writeCifarBatch(join(d, 'test_batch.bin'), 4, [1, 2, 3, 4, 5, 6]);
    const split = (await openDataset(`cifar10:${d}`)).split('test');
    const b = await buildBatch(split, [5, 0, 3], { size: 32, toInput: rawInput() });
    assert.deepEqual(b.shape, [3, 3, 32, 32]);
    assert.deepEqual(Array.from(b.y), [6, 1, 4]);
    for (const [k, r] of [[0, 5], [1, 0], [2, 3]] as const) {
      for (const [c, y, x] of [[0, 0, 0], [2, 31, 31], [1, 10, 20]] as const) {
        assert.ok(Math.abs(b.x[k * 3072 + c * 1024 + y * 32 + x]! - cifarPixel(4, r, y, x, c) / 255) < 1e-6);
      }
    }
    const ev = await buildBatch(split, [5, 0, 3], { size: 32 });
    assert.deepEqual(ev.shape, [3, 3, 32, 32], 'the default (ONECROP) path gives the same shape');
    assert.notDeepEqual(ev.x, b.x);
    const same = await buildBatch(split, [5], { size: 32, toInput: cifarTrainInput({ padding: 0, flipP: 0 }), rng: new Rng(0) });
    assert.deepEqual(same.x, b.x.subarray(0, 3072), 'the CIFAR recipe with no padding and no flip is the stored image');
    await assert.rejects(buildBatch(split, [0], { size: 8, toInput: rawInput() }), /Expected a 8x8x3 model input for .*test_batch\.bin#0/);
    const enc = freshDir('raw-enc');
    await writePng(join(enc, 'c', 'a.png'), 1, 8, 8);
    const encSplit = (await openDataset(`imagefolder:${enc}`)).split('all');
    await assert.rejects(buildBatch(encSplit, [0], { size: 8, toInput: rawInput() }), /rawInput takes stored pixels but .*a\.png is an encoded file/);
    const aug = { toInput: cifarTrainInput(), size: 32 };
    const a1 = await buildBatch(split, [0, 1, 2, 3], { ...aug, rng: new Rng(1).fork('epoch:0') });
    const a2 = await buildBatch(split, [0, 1, 2, 3], { ...aug, rng: new Rng(1).fork('epoch:0'), concurrency: 1 });
    const a3 = await buildBatch(split, [0, 1, 2, 3], { ...aug, rng: new Rng(2).fork('epoch:0') });
    assert.deepEqual(a1.x, a2.x, 'same seed, any decode order: the same batch');
    assert.notDeepEqual(a1.x, a3.x);
    let n = 0;
    for await (const bb of iterateBatches(split, { batch: 4, shuffle: new Rng(3) })) {
      assert.equal(bb.x.length, bb.indices.length * 3072);
      n += bb.indices.length;
    }
    assert.equal(n, 6);
  });

  it('imagenet train transform: RandomResizedCrop + flip + jitter to S x S, seeded', async () => {
    const d = freshDir('batch-imagenet');
    await writeJpeg(join(d, 'a', '1.jpg'), 1, 120, 90);
    await writeJpeg(join(d, 'b', '2.jpg'), 2, 60, 100);
    const split = (await openDataset(`imagefolder:${d}`)).split('all');
    const t = imagenetTrainInput({ size: 24 });
    const b1 = await buildBatch(split, [0, 1], { size: 24, toInput: t, rng: new Rng(9) });
    const b2 = await buildBatch(split, [0, 1], { size: 24, toInput: t, rng: new Rng(9) });
    assert.deepEqual(b1.shape, [2, 3, 24, 24]);
    assert.deepEqual(b1.x, b2.x);
    assert.ok(b1.x.every((v) => v >= 0 && v <= 1));
    assert.deepEqual(Array.from(b1.y), [0, 1]);
    await assert.rejects(buildBatch(split, [0], { size: 24, toInput: imagenetTrainInput({ size: 16 }) }), /Expected a 24x24x3 model input/);
  });
});
