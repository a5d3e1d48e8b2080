import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, parseDataName } from '../../../ts/data/index.ts';
import { decodeRgb } from '../../../ts/data/preprocess.ts';
import { parseIdx } from '../../../ts/data/idx.ts';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import { cifarPixel, freshDir, pixels, writeCifarBatch, writeIdx, writeJpeg, writePng } from './fixtures.ts';

async function rejects(p: Promise<unknown>, type: typeof QrobustError, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name} but got ${String(e)}`);
    assert.match((e as Error).message, re);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    return true;
  });
}

describe('data: names', () => {
  it('parses fashion-mnist and <scheme>:<dir> into an absolute canonical name', () => {
    assert.deepEqual(parseDataName('fashion-mnist'), { kind: 'fashion-mnist', dir: null, canonical: 'fashion-mnist' });
    const d = freshDir('names');
    const p = parseDataName(`cifar10:${d}`);
    assert.equal(p.kind, 'cifar10');
    assert.equal(p.dir, d);
    assert.equal(p.canonical, `cifar10:${d}`);
  });

  it('an unknown scheme is a UsageError listing every allowed name', async () => {
    for (const bad of ['mnist', 'cifar100:/tmp', 'Fashion-MNIST', '']) {
      await rejects(openDataset(bad), UsageError, /Expected one of fashion-mnist, imagefolder:<dir>, imagenet-c:<dir>, cifar10:<dir>, idx:<dir> for --data but received/);
    }
  });

  it('a scheme without a directory, a missing directory and a file are UsageErrors naming them', async () => {
    await rejects(openDataset('imagefolder:'), UsageError, /imagefolder:<dir> \(a directory after the colon\)/);
    await rejects(openDataset('idx'), UsageError, /idx:<dir>/);
    const missing = join(freshDir('names-missing'), 'nope');
    await rejects(openDataset(`imagefolder:${missing}`), UsageError, new RegExp(`Directory ${missing} for --data imagefolder:.* does not exist`));
    const f = join(freshDir('names-file'), 'x.txt');
    writeFileSync(f, 'x');
    await rejects(openDataset(`cifar10:${f}`), UsageError, /is not a directory/);
  });
});

describe('data: imagefolder', () => {
  let root: string;
  const px: Record<string, Uint8Array> = {};
  before(async () => {
    root = freshDir('imagefolder');
    // code-point order puts 'C_upper' before 'a_cls' before 'b_cls' (torchvision sorts the same way)
    px.a0 = await writePng(join(root, 'a_cls', 'x1.png'), 1, 5, 4);
    px.a1 = await writePng(join(root, 'a_cls', 'sub', 'x0.png'), 2, 5, 4);
    px.a2 = await writePng(join(root, 'a_cls', 'A.PNG'), 3, 3, 3);
    await writeJpeg(join(root, 'b_cls', 'y.jpg'), 4, 16, 8);
    px.c0 = await writePng(join(root, 'C_upper', 'z.png'), 5, 4, 4, 1);
    writeFileSync(join(root, 'b_cls', 'notes.txt'), 'not an image');
  });

  it('classes sorted by code point, files recursive and sorted, non-images ignored', async () => {
    const ds = await openDataset(`imagefolder:${root}`);
    assert.deepEqual(ds.classes, ['C_upper', 'a_cls', 'b_cls']);
    assert.deepEqual(ds.splits, ['all']);
    assert.equal(ds.testSplit, 'all');
    assert.equal(ds.trainSplit, null);
    const s = ds.split('all');
    assert.equal(s.length, 5);
    assert.deepEqual(Array.from(s.labels), [0, 1, 1, 1, 2]);
    // torchvision: sorted(os.walk()) -> root 'a_cls' files (A.PNG, x1.png) before root 'a_cls/sub'
    assert.deepEqual([1, 2, 3].map((i) => s.locate(i).slice(root.length + 1)), ['a_cls/A.PNG', 'a_cls/x1.png', 'a_cls/sub/x0.png']);
  });

  it('get() returns the file bytes; a PNG decodes to the written pixels; grey becomes RGB', async () => {
    const s = (await openDataset(`imagefolder:${root}`)).split('all');
    const smp = await s.get(2);
    assert.equal(smp.kind, 'encoded');
    if (smp.kind !== 'encoded') return;
    assert.deepEqual(Buffer.from(smp.bytes), readFileSync(join(root, 'a_cls', 'x1.png')));
    assert.equal(smp.label, 1);
    const img = await decodeRgb(smp.bytes, smp.file);
    assert.deepEqual([img.width, img.height, img.channels], [5, 4, 3]);
    assert.deepEqual(img.data, px.a0);
    const grey = await decodeRgb((await s.get(0) as { bytes: Uint8Array }).bytes, 'z.png');
    for (let i = 0; i < 16; i++) assert.deepEqual([grey.data[3 * i], grey.data[3 * i + 1], grey.data[3 * i + 2]], [px.c0![i], px.c0![i], px.c0![i]]);
  });

  it('train/ and val/ sub-folders are splits sharing one class list', async () => {
    const d = freshDir('imagefolder-splits');
    await writePng(join(d, 'train', 'cat', 'a.png'), 1, 2, 2);
    await writePng(join(d, 'train', 'dog', 'b.png'), 2, 2, 2);
    await writePng(join(d, 'val', 'dog', 'c.png'), 3, 2, 2);
    const ds = await openDataset(`imagefolder:${d}`);
    assert.deepEqual(ds.splits, ['train', 'val']);
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    assert.equal(ds.trainSplit, 'train');
    assert.equal(ds.testSplit, 'val');
    assert.deepEqual(Array.from(ds.split('val').labels), [1]);
    await rejects(Promise.resolve().then(() => ds.split('test')), UsageError, /Expected one of train, val for the split of imagefolder:.* but received 'test'/);
  });

  it('flat folder + val.txt (numeric labels) and + labels.txt (class names)', async () => {
    const d = freshDir('imagefolder-flat');
    for (let i = 0; i < 4; i++) await writePng(join(d, 'val', `ILSVRC_val_${i}.png`), i, 3, 3);
    writeFileSync(join(d, 'val', 'val.txt'), 'ILSVRC_val_2.png 4\nILSVRC_val_0.png 0\n\nILSVRC_val_1.png 2\n');
    const ds = await openDataset(`imagefolder:${join(d, 'val')}`);
    assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4']);
    const s = ds.split('all');
    assert.equal(s.length, 3, 'only the listed files, in file order');
    assert.deepEqual(Array.from(s.labels), [4, 0, 2]);
    assert.ok(s.locate(0).endsWith('ILSVRC_val_2.png'));

    const e = freshDir('imagefolder-flat-named');
    await writePng(join(e, 'p.png'), 1, 2, 2);
    await writePng(join(e, 'q.png'), 2, 2, 2);
    writeFileSync(join(e, 'labels.txt'), 'p.png zebra\nq.png ant\n');
    const ds2 = await openDataset(`imagefolder:${e}`);
    assert.deepEqual(ds2.classes, ['ant', 'zebra']);
    assert.deepEqual(Array.from(ds2.split('all').labels), [1, 0]);
  });

  it('a label file naming a missing file, bad lines and an empty tree are one-line UsageErrors', async () => {
    const d = freshDir('imagefolder-bad');
    await writePng(join(d, 'p.png'), 1, 2, 2);
    writeFileSync(join(d, 'labels.txt'), 'p.png 0\nmissing.png 1\n');
    await rejects(openDataset(`imagefolder:${d}`), UsageError, /missing\.png listed in .*labels\.txt does not exist/);
    writeFileSync(join(d, 'labels.txt'), 'p.png 0 extra\n');
    await rejects(openDataset(`imagefolder:${d}`), UsageError, /Expected "file label" on line 1/);
    const empty = freshDir('imagefolder-empty');
    await rejects(openDataset(`imagefolder:${empty}`), UsageError, /Expected class folders or a label file/);
    mkdirSync(join(empty, 'cls'));
    await rejects(openDataset(`imagefolder:${empty}`), UsageError, /cls .* have no image files/);
  });
});

describe('data: imagenet-c', () => {
  it('splits are <corruption>/<severity> in the reference order, labelled by the first split\'s classes', async () => {
    const d = freshDir('imagenet-c');
    for (const c of ['contrast', 'gaussian_noise', 'speckle_noise']) {
      for (const s of ['2', '1']) {
        for (const [k, cls] of ['n01', 'n02'].entries()) await writeJpeg(join(d, c, s, cls, `img${k}.JPEG`), k, 8, 8);
      }
    }
    mkdirSync(join(d, 'gaussian_noise', 'notes'));
    const ds = await openDataset(`imagenet-c:${d}`);
    assert.deepEqual(ds.splits, ['gaussian_noise/1', 'gaussian_noise/2', 'contrast/1', 'contrast/2', 'speckle_noise/1', 'speckle_noise/2']);
    assert.deepEqual(ds.classes, ['n01', 'n02']);
    const s = ds.split('contrast/2');
    assert.equal(s.length, 2);
    assert.deepEqual(Array.from(s.labels), [0, 1]);
    assert.ok(s.locate(1).endsWith(join('contrast', '2', 'n02', 'img1.JPEG')));
    const smp = await s.get(1);
    assert.equal(smp.label, 1);
    await rejects(Promise.resolve().then(() => ds.split('fog/1')), UsageError, /for the split of imagenet-c:/);
    // a class folder the first split does not have is named
    await writeJpeg(join(d, 'speckle_noise', '2', 'n99', 'x.JPEG'), 1, 8, 8);
    const again = await openDataset(`imagenet-c:${d}`);
    await rejects(Promise.resolve().then(() => again.split('speckle_noise/2')), UsageError, /Class folder .*n99 is not one of the 2 classes of the first split/);
  });

  it('a folder without the tree is a UsageError', async () => {
    const d = freshDir('imagenet-c-bad');
    mkdirSync(join(d, 'gaussian_noise', 'x'), { recursive: true });
    await rejects(openDataset(`imagenet-c:${d}`), UsageError, /Expected <corruption>\/<severity>\/<class>\/ folders/);
  });
});

describe('data: cifar10', () => {
  let d: string;
  before(() => {
    d = freshDir('cifar10');
    writeCifarBatch(join(d, 'data_batch_1.bin'), 1, [3, 1, 4]);
    writeCifarBatch(join(d, 'data_batch_2.bin'), 2, [1, 5]);
    writeCifarBatch(join(d, 'test_batch.bin'), 9, [9, 2, 6, 5]);
  });

  it('train = the data batches in order, test = test_batch; labels from the first byte', async () => {
    const ds = await openDataset(`cifar10:${d}`);
    assert.deepEqual(ds.splits, ['train', 'test']);
    assert.equal(ds.classes[0], 'airplane');
    assert.equal(ds.classes.length, 10);
    assert.deepEqual(Array.from(ds.split('train').labels), [3, 1, 4, 1, 5]);
    assert.deepEqual(Array.from(ds.split('test').labels), [9, 2, 6, 5]);
    assert.equal(ds.split('train').locate(3), `${join(d, 'data_batch_2.bin')}#0`);
  });

  it('get() turns the R, G, B planes into HWC pixels', async () => {
    const s = (await openDataset(`cifar10:${d}`)).split('train');
    const smp = await s.get(4);
    assert.equal(smp.kind, 'pixels');
    if (smp.kind !== 'pixels') return;
    assert.deepEqual([smp.width, smp.height, smp.channels, smp.label], [32, 32, 3, 5]);
    for (const [y, x, c] of [[0, 0, 0], [31, 31, 2], [7, 20, 1], [12, 3, 0]] as const) {
      assert.equal(smp.data[(y * 32 + x) * 3 + c], cifarPixel(2, 1, y, x, c));
    }
  });

  it('batches.meta.txt names the classes; a bad size is a runtime error; no batches is a usage error', async () => {
    const e = freshDir('cifar10-meta');
    writeCifarBatch(join(e, 'cifar-10-batches-bin', 'test_batch.bin'), 1, [0, 1]);
    writeFileSync(join(e, 'cifar-10-batches-bin', 'batches.meta.txt'), 'a\nb\n\n');
    const ds = await openDataset(`cifar10:${e}`);
    assert.deepEqual(ds.classes, ['a', 'b']);
    assert.deepEqual(ds.splits, ['test']);
    writeFileSync(join(e, 'cifar-10-batches-bin', 'test_batch.bin'), Buffer.alloc(3074));
    await rejects(openDataset(`cifar10:${e}`), QrobustError, /Expected a multiple of 3073 bytes .* but it has 3074/);
    await rejects(openDataset(`cifar10:${freshDir('cifar10-none')}`), UsageError, /Expected CIFAR-10 binary batches/);
  });
});

describe('data: idx', () => {
  it('reads train (gzipped, original spelling) and t10k IDX files; grey and HWC images', async () => {
    const d = freshDir('idx');
    const train = new Uint8Array(3 * 20);
    for (let i = 0; i < 3; i++) train.set(pixels(10 + i, 5, 4, 1), i * 20);
    writeIdx(join(d, 'train-images.idx3-ubyte.gz'), [3, 4, 5], train);
    writeIdx(join(d, 'train-labels.idx1-ubyte.gz'), [3], Uint8Array.of(7, 0, 2));
    writeIdx(join(d, 't10k-images-idx3-ubyte'), [2, 2, 2, 3], pixels(5, 2, 2, 6));
    writeIdx(join(d, 't10k-labels-idx1-ubyte'), [2], Uint8Array.of(1, 1));
    const ds = await openDataset(`idx:${d}`);
    assert.deepEqual(ds.splits, ['train', 'test']);
    assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4', '5', '6', '7']);
    const s = ds.split('train');
    assert.deepEqual(Array.from(s.labels), [7, 0, 2]);
    const smp = await s.get(1);
    assert.ok(smp.kind === 'pixels' && smp.channels === 1 && smp.width === 5 && smp.height === 4);
    assert.deepEqual(Array.from((smp as { data: Uint8Array }).data), Array.from(pixels(11, 5, 4, 1)));
    const t = await ds.split('test').get(1);
    assert.ok(t.kind === 'pixels' && t.channels === 3 && t.width === 2);
  });

  it('header checks: magic, element type, sizes; a lone images file is a usage error', async () => {
    assert.deepEqual(parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9), 'x').dims, [2]);
    assert.throws(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'f'), /f is not an IDX file/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0), 'f'), /element type 0x08 .* received 0xd/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 1), 'f'), /need 3 bytes of data but the file has 1/);
    const d = freshDir('idx-bad');
    writeIdx(join(d, 'train-images-idx3-ubyte'), [1, 2, 2], new Uint8Array(4));
    await rejects(openDataset(`idx:${d}`), UsageError, /Expected both train-images-idx3-ubyte and train-labels-idx1-ubyte/);
    writeIdx(join(d, 'train-labels-idx1-ubyte'), [2], new Uint8Array(2));
    await rejects(openDataset(`idx:${d}`), QrobustError, /Expected 1 labels/);
    await rejects(openDataset(`idx:${freshDir('idx-none')}`), UsageError, /Expected IDX files/);
  });
});
