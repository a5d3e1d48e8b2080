import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  FASHION_MNIST_CLASS_DIRS, FASHION_MNIST_MANIFEST, buildFashionMnistSplit, checkAgainstManifest, decodeManifest,
  encodeFashionMnistImage, encodeManifest, ensureFashionMnist, loadFashionMnistSource, readManifest, splitCounts,
  type FashionMnistSource,
} from '../../../ts/data/fashion-mnist.ts';
import { openDataset, buildBatch, preprocessProvider } from '../../../ts/data/index.ts';
import { QrobustError } from '../../../ts/util/errors.ts';
import { freshDir } from './fixtures.ts';
import { repoRoot } from '../../../ts/native/binding.ts';

/** The pinned numbers (docs/data.md). */
const PINNED = {
  sourceEntries: 70002,
  malformed: [[0, 1000], [0, 7001]],
  withinClassDuplicates: [3, 6, 13, 7, 6, 0, 12, 4, 0, 2],
  crossClassDuplicates: [{ label: 6, sourceIndex: 6209, of: [0, 948] }],
  train: 60000,
  test: 9946,
  testPerClass: [997, 994, 987, 993, 994, 1000, 987, 996, 1000, 998],
};

describe('data: fashion-mnist (embedded default)', function () {
  this.timeout(600000);
  let source: FashionMnistSource;

  before(() => {
    source = loadFashionMnistSource();
  });

  it('the recipe gives the pinned drops and split sizes', () => {
    assert.equal(source.reduce((a, c) => a + c.length, 0), PINNED.sourceEntries);
    const s = buildFashionMnistSplit(source);
    const malformed = s.dropped.filter((d) => d.reason === 'malformed').map((d) => [d.label, d.sourceIndex]);
    assert.deepEqual(malformed, PINNED.malformed);
    const dups = s.dropped.filter((d) => d.reason === 'duplicate');
    const within = new Array<number>(10).fill(0);
    for (const d of dups) if (d.duplicateOf!.label === d.label) within[d.label]!++;
    assert.deepEqual(within, PINNED.withinClassDuplicates);
    const cross = dups.filter((d) => d.duplicateOf!.label !== d.label).map((d) => ({ label: d.label, sourceIndex: d.sourceIndex, of: [d.duplicateOf!.label, d.duplicateOf!.sourceIndex] }));
    assert.deepEqual(cross, PINNED.crossClassDuplicates);
    const counts = splitCounts(s);
    assert.deepEqual(counts.train, new Array(10).fill(6000));
    assert.deepEqual(counts.test, PINNED.testPerClass);
    assert.equal(dups.length, 54);
    assert.equal(s.entries.length, PINNED.sourceEntries - 2 - 54, '70,002 entries - 2 malformed - 54 duplicates');
    assert.equal(counts.test.reduce((a, b) => a + b, 0), PINNED.test);
    // every kept image is unique, and per class the first 6,000 in source order are train
    assert.equal(new Set(s.entries.map((e) => e.hash)).size, s.entries.length);
    for (let c = 0; c < 10; c++) {
      const mine = s.entries.filter((e) => e.label === c);
      assert.ok(mine.every((e, i) => (i < 6000) === (e.split === 'train') && (i === 0 || e.sourceIndex > mine[i - 1]!.sourceIndex)));
    }
  });

  it('the committed manifest is < 1 MB, round-trips, and the source matches it', () => {
    assert.ok(statSync(FASHION_MNIST_MANIFEST).size < 1024 * 1024);
    const pinned = readManifest();
    const s = buildFashionMnistSplit(source);
    checkAgainstManifest(s, pinned);
    assert.deepEqual(Buffer.from(encodeManifest(pinned)), readFileSync(FASHION_MNIST_MANIFEST));
  });

  it('a tampered manifest or source entry is detected, naming the mismatch', () => {
    const bytes = Buffer.from(readFileSync(FASHION_MNIST_MANIFEST));
    // 1. raw byte flip: the checksum catches it
    const flipped = Buffer.from(bytes);
    flipped[200] = flipped[200]! ^ 1;
    assert.throws(() => decodeManifest(flipped, 'm.bin'), (e: unknown) => e instanceof QrobustError && /m\.bin: checksum mismatch/.test((e as Error).message));
    // 2. a well-formed manifest with one hash changed: the entry is named
    const pinned = readManifest();
    const forged = { entries: pinned.entries.map((e) => ({ ...e })), dropped: pinned.dropped };
    forged.entries[12345]!.hash = '0000000000000000';
    const s = buildFashionMnistSplit(source);
    assert.throws(() => checkAgainstManifest(s, decodeManifest(encodeManifest(forged))), /entry 12345 is class 1 source index \d+ train hash [0-9a-f]{16} in the source but .* hash 0000000000000000 in the manifest/);
    // 3. a changed source pixel: the same check names the entry
    const src2 = source.map((c) => c.slice());
    const px = Uint8Array.from(src2[3]![10]!);
    px[400] = px[400]! ^ 0xff;
    src2[3]![10] = px;
    assert.throws(() => checkAgainstManifest(buildFashionMnistSplit(src2), pinned), /does not match the pinned manifest .*: entry \d+ is class 3 source index 10 /);
    // 4. a moved split boundary
    const moved = { entries: pinned.entries.map((e) => ({ ...e })), dropped: pinned.dropped };
    moved.entries[6000]!.split = 'train';
    assert.throws(() => checkAgainstManifest(s, moved), /entry 6000 .* test .* train/);
  });

  it('materialisation checks the manifest first and leaves nothing behind on a mismatch', async () => {
    const dir = freshDir('fmnist-tampered');
    const pinned = readManifest();
    const forged = { entries: pinned.entries.map((e) => ({ ...e })), dropped: pinned.dropped.slice(1) };
    const file = join(dir, 'forged.bin');
    writeFileSync(file, encodeManifest(forged));
    const root = join(dir, 'cache');
    await assert.rejects(ensureFashionMnist({ cacheRoot: root, manifestFile: file }), /does not match the pinned manifest .*forged\.bin: dropped entries differ/);
    assert.deepEqual(existsSync(root) ? readdirSync(root) : [], [], 'no cache folder, no temporary folder');
  });

  it('an interrupted materialisation leaves no cache, and its temporary folder is removed by the next run', async () => {
    const root = join(freshDir('fmnist-interrupted'), 'cache');
    const code = `import { ensureFashionMnist } from ${JSON.stringify(join(repoRoot, 'ts', 'data', 'fashion-mnist.ts'))};
await ensureFashionMnist({ cacheRoot: ${JSON.stringify(root)} });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, stdio: 'ignore', env: { ...process.env, QROBUST_QUIET: '1' } });
    const jpgs = (): number => {
      const tmp = existsSync(root) ? readdirSync(root).find((n) => n.startsWith('.tmp-fashion-mnist-')) : undefined;
      return tmp ? readdirSync(join(root, tmp, 'train', FASHION_MNIST_CLASS_DIRS[0])).length : 0;
    };
    const t0 = Date.now();
    while (jpgs() < 50 && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const left = readdirSync(root);
    assert.equal(left.length, 1, left.join(','));
    assert.match(left[0]!, new RegExp(`^\\.tmp-fashion-mnist-[0-9a-f]{16}-${child.pid}-`));
    assert.ok(!left.some((n) => n.startsWith('fashion-mnist-')), 'no cache folder');
    // the next run (here one that stops at a forged manifest) removes the dead process's folder first
    const pinned = readManifest();
    const forged = join(root, '..', 'forged.bin');
    writeFileSync(forged, encodeManifest({ entries: pinned.entries, dropped: pinned.dropped.slice(1) }));
    await assert.rejects(ensureFashionMnist({ cacheRoot: root, manifestFile: forged }), /dropped entries differ/);
    assert.deepEqual(readdirSync(root), []);
  });

  it('materialises (or finds) the cache: 10 classes, the pinned sizes, the recipe, mean/std', async () => {
    const t0 = performance.now();
    const ds = await openDataset('fashion-mnist');
    const seconds = (performance.now() - t0) / 1000;
    const cache = (ds as unknown as { cache: Awaited<ReturnType<typeof ensureFashionMnist>> }).cache;
    process.stderr.write(`      fashion-mnist: ${cache.built ? 'materialised' : 'read from cache'} in ${seconds.toFixed(1)} s (${cache.dir})\n`);
    assert.equal(ds.classes.length, 10);
    assert.equal(ds.classes[9], 'Ankle boot');
    assert.equal(ds.split('train').length, PINNED.train);
    assert.equal(ds.split('test').length, PINNED.test);
    assert.deepEqual(cache.meta.counts.test, PINNED.testPerClass);
    assert.deepEqual(cache.meta.dropped, { malformed: 2, duplicate: 54 });
    // the folder is an ImageFolder whose file counts match the manifest
    for (const split of ['train', 'test'] as const) {
      FASHION_MNIST_CLASS_DIRS.forEach((d, c) => {
        assert.equal(readdirSync(join(cache.dir, split, d)).length, cache.meta.counts[split][c], `${split}/${d}`);
      });
    }
    assert.ok(!readdirSync(join(cache.dir, '..')).some((n) => n.startsWith('.tmp-fashion-mnist-') && n.includes(`-${process.pid}-`)));
    // stats: grey images, so the three channels agree; plausible values; recorded with the preprocess impl
    const st = ds.stats!;
    assert.equal(st.images, 60000);
    assert.equal(st.size, 32);
    assert.equal(st.preprocess, preprocessProvider('dec-pil').impl);
    assert.ok(st.mean[0] > 0.2 && st.mean[0] < 0.5 && st.std[0] > 0.2 && st.std[0] < 0.5, JSON.stringify(st));
    assert.equal(st.mean[0], st.mean[1]);
    assert.equal(st.mean[1], st.mean[2]);
  });

  it('each cached file is the recipe applied to its source image: 64x64 RGB JPEG, 4:2:0, byte-identical re-encode', async () => {
    const ds = await openDataset('fashion-mnist');
    const test = ds.split('test');
    const manifest = readManifest();
    const firstTest = manifest.entries.findIndex((e) => e.split === 'test');
    const e = manifest.entries[firstTest]!;
    const smp = await test.get(0);
    assert.equal(smp.kind, 'encoded');
    if (smp.kind !== 'encoded') return;
    assert.equal(smp.label, 0);
    assert.ok(smp.file.endsWith(join('test', '0-t-shirt-top', `${String(e.sourceIndex).padStart(5, '0')}.jpg`)));
    const meta = await sharp(smp.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels, meta.chromaSubsampling], ['jpeg', 64, 64, 3, '4:2:0']);
    const again = await encodeFashionMnistImage(source[0]![e.sourceIndex]!);
    assert.deepEqual(Buffer.from(smp.bytes), again);
  });

  it('a second open is fast and rewrites nothing', async () => {
    const first = await openDataset('fashion-mnist');
    const metaFile = join(first.cacheDir!, 'meta.json');
    const before = statSync(metaFile).mtimeMs;
    const listing = readdirSync(join(first.cacheDir!, '..')).sort();
    const t0 = performance.now();
    const again = await openDataset('fashion-mnist');
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `second open took ${ms.toFixed(0)} ms`);
    assert.equal((again as unknown as { cache: { built: boolean } }).cache.built, false);
    assert.equal(statSync(metaFile).mtimeMs, before);
    assert.deepEqual(readdirSync(join(first.cacheDir!, '..')).sort(), listing);
  });

  it('batches of the test split: N x 3 x 32 x 32 in [0,1], labels from the split, grey replicated', async () => {
    const ds = await openDataset('fashion-mnist');
    const s = ds.split('test');
    const idx = Int32Array.of(0, 1, 997, 5000, s.length - 1);
    const b = await buildBatch(s, idx, { size: 32 });
    assert.deepEqual(b.shape, [5, 3, 32, 32]);
    assert.deepEqual(Array.from(b.y), Array.from(idx, (i) => s.labels[i]!));
    assert.deepEqual(Array.from(b.y), [0, 0, 1, 5, 9]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of b.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(min >= 0 && max <= 1 && max > 0.5, `${min}..${max}`);
    const plane = 32 * 32;
    for (let k = 0; k < plane; k++) assert.equal(b.x[k], b.x[plane + k]);
  });
});
