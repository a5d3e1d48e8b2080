import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/cli.test.ts';
import { freshDir, writeCifarBatch } from './fixtures.ts';

function oneLineError(r: { stderr: string }): string {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  return lines[0]!;
}

describe('data: CLI (qrobust data prepare / info)', function () {
  this.timeout(600000);

  it('data prepare --json: one JSON object with classes, split sizes, cache path, seconds, mean/std', () => {
    const r = runCli(['data', 'prepare', '--data', 'fashion-mnist', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!);
    assert.equal(j.data, 'fashion-mnist');
    assert.equal(j.classes.length, 10);
    assert.deepEqual(j.splits, { train: 60000, test: 9946 });
    assert.match(j.cacheDir, /fashion-mnist-[0-9a-f]{16}$/);
    assert.equal(typeof j.seconds, 'number');
    assert.equal(j.stats.mean.length, 3);
    assert.equal(j.stats.std.length, 3);
    assert.deepEqual(j.dropped, { malformed: 2, duplicate: 54 });
    assert.equal(j.preprocess.standIn, false);
  });

  it('data info: defaults to fashion-mnist; --test-limit/--seed record a stratified subset', () => {
    const r = runCli(['data', 'info', '--json', '--test-limit', '500', '--seed', '4']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.data, 'fashion-mnist');
    assert.deepEqual({ ...j.subsets.test, sha256: 'x' }, { method: 'stratified', seed: 4, split: 'test', n: 500, of: 9946, sha256: 'x' });
    const again = JSON.parse(runCli(['data', 'info', '--json', '--test-limit', '500', '--seed', '4']).stdout);
    assert.equal(again.subsets.test.sha256, j.subsets.test.sha256);
    const text = runCli(['data', 'info']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /splits: train 60000, test 9946/);
    assert.doesNotMatch(text.stdout, /stand-in/i);
  });

  it('data info on a cifar10 folder', () => {
    const d = freshDir('cli-cifar');
    writeCifarBatch(join(d, 'data_batch_1.bin'), 1, [0, 1, 2, 3]);
    const r = runCli(['data', 'info', '--json', '--data', `cifar10:${d}`, '--train-limit', '2']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.splits, { train: 4 });
    assert.equal(j.subsets.train.n, 2);
    assert.equal(j.cacheDir, null);
  });

  it('usage errors exit 2 with one line: unknown data name (listing the names), missing dir, bad limit', () => {
    let r = runCli(['data', 'info', '--data', 'mnist']);
    assert.equal(r.code, 2);
    assert.match(oneLineError(r), /Expected one of fashion-mnist, imagefolder:<dir>, imagenet-c:<dir>, cifar10:<dir>, idx:<dir> for --data but received 'mnist'/);
    const missing = join(freshDir('cli-missing'), 'nope');
    r = runCli(['data', 'prepare', '--data', `imagefolder:${missing}`]);
    assert.equal(r.code, 2);
    assert.match(oneLineError(r), new RegExp(`Directory ${missing} for --data imagefolder:${missing} does not exist`));
    r = runCli(['data', 'info', '--test-limit', 'ten']);
    assert.equal(r.code, 2);
    assert.match(oneLineError(r), /Expected an integer for --test-limit but received 'ten'/);
    r = runCli(['data', 'info', '--data', `idx:${freshDir('cli-empty')}`]);
    assert.equal(r.code, 2);
    assert.match(oneLineError(r), /Expected IDX files/);
  });

  it('runtime failures exit 1 with one line', () => {
    const d = freshDir('cli-corrupt');
    writeFileSync(join(d, 'test_batch.bin'), Buffer.alloc(100));
    const r = runCli(['data', 'info', '--data', `cifar10:${d}`]);
    assert.equal(r.code, 1);
    assert.match(oneLineError(r), /Expected a multiple of 3073 bytes .*test_batch\.bin but it has 100/);
  });
});
