/**
 * The systematic suite's computation with fake classifiers (no model needed):
 * - SR is np.std (ddof 0) of exactly the 14 accuracies; a missing one is a named error;
 * - a colour classifier (argmax of channel means) is right on every pipeline: all 14 at 100 %, SR 0,
 *   which also shows every pipeline hands RGB in NCHW order;
 * - a memorising classifier, right only when its input is byte-identical to dec-pil's, gets exactly the
 *   share of images on which each pipeline equals the reference (dec-pil, rs-pil-bilinear, dec-opencv,
 *   dec-sharp: 100 %; dec-ffmpeg on colour 4:2:0: 0 %), so the images reach the classifier unaltered;
 * - corrupt, truncated and unreadable files are skipped with their names and left out of every accuracy;
 * - the JSON shape of CONVENTIONS.md (ids in order, extras apart, unrounded percent); chunking does not
 *   change results; a classifier answering badly is a named error.
 */
import { strict as assert } from 'node:assert';
import { jpegEncode, imageAvailable } from '../../../ts/native/image.ts';
import { opencvAvailable } from '../../../ts/native/opencv.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import { EXTRA_IDS, SYSTEMATIC_IDS } from '../../../ts/systematic/pipelines.ts';
import { preprocess } from '../../../ts/systematic/preprocess.ts';
import { formatSystematicTable, runSystematic, systematicSr, systematicVersions, type Classifier, type SystematicSample } from '../../../ts/systematic/suite.ts';
import { ffmpegPresent } from './opencv-fixtures.ts';

const S = 16;

/** A smooth colour image whose dominant channel is `label` (0 red, 1 green, 2 blue). */
function colourImage(rng: Rng, label: number, w = 48, h = 40): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  const phase = rng.uniform() * 6;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const base = c === label ? 200 : 50;
        d[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + 40 * Math.sin(phase + x / 5 + c) * Math.cos(y / 7 - c))));
      }
    }
  }
  return d;
}

async function samples(n: number, seed = 1): Promise<SystematicSample[]> {
  const rng = new Rng(seed);
  const out: SystematicSample[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    const bytes = await jpegEncode({ data: colourImage(rng, label), width: 48, height: 40, channels: 3 }, 90);
    out.push({ file: `img${i}.jpg`, label, bytes });
  }
  return out;
}

const colourClassifier: Classifier = async (x, n) => {
  const plane = S * S;
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const m = [0, 1, 2].map((c) => {
      let s = 0;
      for (let i = 0; i < plane; i++) s += x[(k * 3 + c) * plane + i]!;
      return s;
    });
    out[k] = m.indexOf(Math.max(...m));
  }
  return out;
};

describe('systematic/suite', function () {
  this.timeout(60000);
  before(function () {
    if (!imageAvailable() || !opencvAvailable() || !ffmpegPresent()) this.skip();
  });

  it('SR is the population std of exactly the 14 accuracies', () => {
    const acc = Object.fromEntries(SYSTEMATIC_IDS.map((id, i) => [id, i + 1]));
    // np.std(np.arange(1, 15)) = sqrt((14^2 - 1) / 12)
    assert.ok(Math.abs(systematicSr(acc) - Math.sqrt(195 / 12)) < 1e-12);
    assert.equal(systematicSr({ ...Object.fromEntries(SYSTEMATIC_IDS.map((id) => [id, 71.5])), 'dec-sharp': 0 }), 0);
    const missing: Record<string, number> = { ...acc };
    delete missing['rs-opencv-area'];
    assert.throws(() => systematicSr(missing), (e: unknown) => e instanceof UsageError && /rs-opencv-area/.test(e.message));
    assert.throws(() => systematicSr({ ...acc, 'dec-ffmpeg': Number.NaN }), UsageError);
  });

  it('a colour classifier is right on every pipeline: 14 x 100 %, SR 0; the JSON shape', async () => {
    const r = await runSystematic(await samples(6), colourClassifier, { size: S });
    assert.deepEqual(Object.keys(r.accuracy), [...SYSTEMATIC_IDS]);
    assert.deepEqual(Object.keys(r.extras), [...EXTRA_IDS]);
    for (const v of [...Object.values(r.accuracy), ...Object.values(r.extras)]) assert.equal(v, 100);
    assert.equal(r.sr, 0);
    assert.equal(r.n, 6);
    assert.deepEqual(r.skipped, []);
    assert.equal(r.suite, 'systematic');
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    const table = formatSystematicTable(r);
    assert.match(table, /dec-ffmpeg\s+100\.00 %/);
    assert.match(table, /SR \(population std of the 14\): 0\.000/);
    assert.match(table, /extras \(not in SR\)/);
  });

  it('a memorising classifier sees exactly each pipeline\'s pixels', async () => {
    const ss = await samples(5, 7);
    const ref = new Map<string, number>();
    const key = (x: Float32Array, k: number) => Array.from(x.subarray(k * 3 * S * S, (k + 1) * 3 * S * S), (v) => Math.round(v * 255)).join(',');
    // reference inputs, packed as the suite packs them (NCHW / 255)
    for (const s of ss) {
      const img = await preprocess(s.bytes!, s.file, { pipeline: 'dec-pil', size: S, mode: 'square' });
      const x = new Float32Array(3 * S * S);
      for (let i = 0; i < S * S; i++) for (let c = 0; c < 3; c++) x[c * S * S + i] = img.data[i * 3 + c]! / 255;
      ref.set(key(x, 0), s.label);
    }
    const memo: Classifier = async (x, n) => Int32Array.from({ length: n }, (_, k) => ref.get(key(x, k)) ?? -1);
    const r = await runSystematic(ss, memo, { size: S, batch: 2, chunk: 4 });
    // expected: the share of images on which the pipeline's bytes equal dec-pil's
    const ids = [...SYSTEMATIC_IDS, ...EXTRA_IDS];
    for (const id of ids) {
      let same = 0;
      for (const s of ss) {
        const a = await preprocess(s.bytes!, s.file, { pipeline: id, size: S, mode: 'square' });
        const b = await preprocess(s.bytes!, s.file, { pipeline: 'dec-pil', size: S, mode: 'square' });
        if (a.data.every((v, i) => v === b.data[i])) same++;
      }
      const got = (r.accuracy as Record<string, number>)[id] ?? r.extras[id];
      assert.equal(got, (100 * same) / ss.length, id);
    }
    for (const id of ['dec-pil', 'rs-pil-bilinear', 'dec-opencv']) assert.equal((r.accuracy as Record<string, number>)[id], 100, id);
    assert.equal(r.extras['dec-sharp'], 100);
    assert.equal(r.accuracy['dec-ffmpeg'], 0);
    assert.ok(r.sr > 0);
  });

  it('skips corrupt, truncated and unreadable files by name; the others are counted', async () => {
    const ss = await samples(4, 3);
    const good = ss[0]!.bytes!;
    const withBad: SystematicSample[] = [
      ss[0]!,
      { file: 'truncated.jpg', label: 0, bytes: good.subarray(0, good.length >> 1) },
      ss[1]!,
      { file: 'notes.txt', label: 1, bytes: new TextEncoder().encode('not an image') },
      { file: 'gone.jpg', label: 2, read: async () => { throw new Error('ENOENT: no such file'); } },
      ss[2]!,
      { file: 'read-ok.jpg', label: ss[3]!.label, read: async () => ss[3]!.bytes! },
    ];
    const r = await runSystematic(withBad, colourClassifier, { size: S, batch: 2, chunk: 3, extras: ['dec-jpegjs'] });
    assert.equal(r.n, 4);
    assert.deepEqual(r.skipped.map((s) => s.file), ['truncated.jpg', 'notes.txt', 'gone.jpg']);
    assert.match(r.skipped[1]!.reason, /notes\.txt/);
    assert.match(r.skipped[2]!.reason, /cannot read: ENOENT/);
    assert.equal(r.accuracy['dec-pil'], 100);
    assert.deepEqual(Object.keys(r.extras), ['dec-jpegjs']);
    assert.match(formatSystematicTable(r), /skipped 3 file\(s\):\n {4}truncated\.jpg/);
  });

  it('percentages are unrounded, chunking does not change them, bad classifiers and options are named errors', async () => {
    const ss = await samples(3, 5);
    // right only on class 0: one image in three
    const only0: Classifier = async (x, n) => {
      const p = await colourClassifier(x, n);
      return p.map((v) => (v === 0 ? 0 : 9));
    };
    const a = await runSystematic(ss, only0, { size: S, extras: false, batch: 1, chunk: 1 });
    const b = await runSystematic(ss, only0, { size: S, extras: false, batch: 64 });
    const c = await runSystematic(ss, only0, { size: S, extras: false, batch: 1, chunk: 2 });
    assert.deepEqual(c, a);
    assert.equal(a.accuracy['rs-opencv-cubic'], 100 / 3);
    assert.deepEqual(a, b);
    assert.deepEqual(a.extras, {});
    await assert.rejects(runSystematic(ss, async () => new Int32Array(1), { size: S, extras: false }), (e: unknown) => e instanceof QrobustError && /classifier: expected an Int32Array of 3/.test(e.message));
    await assert.rejects(runSystematic(ss, colourClassifier, { extras: ['dec-pil'] }), UsageError);
    await assert.rejects(runSystematic([{ file: 'x', label: -1, bytes: new Uint8Array(1) }], colourClassifier), UsageError);
    await assert.rejects(runSystematic([{ file: 'x.txt', label: 0, bytes: new Uint8Array(3) }], colourClassifier, { size: S, extras: false }),
      (e: unknown) => e instanceof QrobustError && /none of the 1 samples/.test(e.message));
  });

  it('records the library versions', async () => {
    const v = await systematicVersions();
    assert.match(v.opencv ?? '', /^4\./);
    assert.match(v.ffmpeg ?? '', /^\d/);
    assert.equal(v['jpeg-js'], '0.4.4');
    assert.ok(v.sharp && v.libvips);
  });
});
