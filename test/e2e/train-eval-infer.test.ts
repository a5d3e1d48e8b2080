import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../ts/native/binding.ts';
import { writeNpy } from '../../ts/attacks/npy.ts';
import { defaultCacheRoot } from '../../ts/data/index.ts';

/** Runs the real entry point (ts/cli/bin.mjs) as a user would. */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One JSON object on one stdout line. */
function oneJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, stdout);
  return JSON.parse(lines[0]!);
}

/** An error: exit code, and exactly one stderr line matching `re`. */
function oneLineError(r: { code: number; stderr: string }, code: number, re: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

const COMMON = ['suite', 'model', 'data', 'target', 'n', 'seed', 'subset', 'versions', 'seconds'];

describe('e2e: qrobust train / eval / infer', function () {
  this.timeout(300000);
  const dir = join(repoRoot, 'test', '.generated', 'e2e');
  const ckpt = join(dir, 'tiny.safetensors');
  let trained: Record<string, any>;

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = cli(['train', '--arch', 'resnet20', '--data', 'fashion-mnist', '--out', ckpt, '--epochs', '1', '--batch', '32', '--train-limit', '128', '--test-limit', '20', '--seed', '5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    trained = oneJson(r.stdout);
  });

  it('train --json: the record is printed and written beside the checkpoint', () => {
    assert.ok(existsSync(ckpt));
    const rec = JSON.parse(readFileSync(join(dir, 'tiny.json'), 'utf8'));
    assert.deepEqual(rec, trained);
    assert.equal(trained.arch, 'resnet20');
    assert.equal(trained.data, 'fashion-mnist');
    assert.equal(trained.steps, 4);
    assert.equal(trained.subset.n, 128);
    assert.equal(trained.seed, 5);
    assert.equal(trained.test.n, 20);
    assert.equal(typeof trained.test.top1, 'number');
    assert.equal(trained.history.length, 1);
    assert.match(trained.versions.commit, /^[0-9a-f]{40}$/);
  });

  it('eval --suite clean,systematic,corruption --json: {"results": [...]} with the common fields; data from the checkpoint', () => {
    const r = cli(['eval', '--model', ckpt, '--suite', 'clean,systematic,corruption', '--test-limit', '20', '--severities', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = oneJson(r.stdout);
    assert.deepEqual(j.results.map((x: { suite: string }) => x.suite), ['clean', 'systematic', 'corruption']);
    for (const res of j.results) {
      for (const k of COMMON) assert.ok(k in res, `${res.suite}.${k}`);
      assert.equal(res.data, 'fashion-mnist', 'defaults to the data the checkpoint was trained on');
      assert.equal(res.target, 'reference');
      assert.equal(res.n, 20);
      assert.equal(res.model, ckpt);
      assert.equal(res.subset.n, 20);
      for (const v of ['node', 'addon', 'sharp', 'libvips', 'opencv', 'libjpeg', 'ffmpeg', 'onnxruntime', 'commit']) assert.ok(v in res.versions, v);
    }
    const [clean, sys, cor] = j.results;
    assert.ok(clean.top1 >= 0 && clean.top1 <= 100);
    assert.equal(Object.keys(sys.accuracy).length, 14);
    assert.ok(sys.sr >= 0);
    assert.equal(Object.keys(cor.accuracy).length, 15);
    assert.deepEqual(Object.keys(cor.accuracy.fog), ['1']);
    assert.ok(cor.nr >= 0 && cor.nr <= 100);
  });

  it('infer on a float32 NCHW .npy and on a JPEG: logits and top5 (top5[0] = argmax)', () => {
    const x = new Float32Array(2 * 3 * 32 * 32).map((_, i) => (i % 255) / 255);
    const npy = join(dir, 'x.npy');
    writeNpy(npy, x, [2, 3, 32, 32]);
    const a = oneJson(cli(['infer', '--model', ckpt, '--input', npy, '--json']).stdout);
    assert.equal(a.logits.length, 2);
    assert.equal(a.logits[0].length, 10);
    assert.equal(a.top5[0].length, 5);
    const row = a.logits[1] as number[];
    assert.equal(a.top5[1][0], row.indexOf(Math.max(...row)));
    const cache = readdirSync(defaultCacheRoot()).find((d) => d.startsWith('fashion-mnist-'))!;
    const cls = join(defaultCacheRoot(), cache, 'test', '8-bag');
    const jpg = join(cls, readdirSync(cls)[0]!);
    const b = oneJson(cli(['infer', '--model', ckpt, '--input', jpg, '--json']).stdout);
    assert.equal(b.logits.length, 1);
    assert.ok(b.logits[0].every((v: number) => Number.isFinite(v)));
  });

  it('bad input: named one-line errors (exit 2 for usage, 1 for a corrupt file)', () => {
    const nan = join(dir, 'nan.npy');
    const v = new Float32Array(3 * 32 * 32);
    v[7] = NaN;
    writeNpy(nan, v, [1, 3, 32, 32]);
    oneLineError(cli(['infer', '--model', ckpt, '--input', nan]), 2, /Expected finite values for --input but .*nan\.npy holds NaN at flat index 7/);
    const small = join(dir, 'small.npy');
    writeNpy(small, new Float32Array(3 * 28 * 28), [1, 3, 28, 28]);
    oneLineError(cli(['infer', '--model', ckpt, '--input', small]), 2, /shape \[N, 3, 32, 32\] for --input but .* has shape \[1, 3, 28, 28\]/);
    oneLineError(cli(['train', '--arch', 'resnet20', '--epochs', '-1', '--out', join(dir, 'n.safetensors')]), 2, /Expected integer 1\.\.100000 for --epochs but received -1/);
    oneLineError(cli(['train', '--arch', 'resnet9', '--out', join(dir, 'n.safetensors')]), 2, /Expected one of resnet20, resnet18, mobilenet_v2, regnetx_600mf for --arch but received 'resnet9'/);
    // a corrupt file is a runtime failure (exit 1), as in the formats layer; a missing one a usage error
    oneLineError(cli(['eval', '--model', join(dir, 'x.npy')]), 1, /x\.npy: not a valid safetensors file/);
    oneLineError(cli(['eval', '--model', join(dir, 'nope.safetensors')]), 2, /Expected an existing checkpoint for --model but received .*nope\.safetensors' \(not found\)/);
    oneLineError(cli(['eval', '--model', ckpt, '--suite', 'clean,robustness']), 2, /--suite/);
  });
});
