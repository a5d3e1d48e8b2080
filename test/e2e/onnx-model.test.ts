import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../ts/native/binding.ts';
import { readNpy, writeNpy } from '../../ts/attacks/npy.ts';
import { buildModel } from '../../ts/train/models.ts';
import { saveCheckpoint, loadCheckpoint, type CheckpointMeta } from '../../ts/train/checkpoint.ts';
import { exportOnnx } from '../../ts/formats/onnx-export.ts';
import { encodeModel } from '../../ts/formats/onnx.ts';
import { Rng } from '../../ts/util/rng.ts';
import * as ort from 'onnxruntime-node';

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('e2e: infer --model <onnx> gives the logits of the checkpoint it was exported from', function () {
  this.timeout(120000);
  const dir = join(repoRoot, 'test', '.generated', 'e2e-onnx');
  const ckpt = join(dir, 'm.safetensors');
  const fixed = join(dir, 'fixed.onnx');
  const symbolic = join(dir, 'symbolic.onnx');
  const npy = join(dir, 'x.npy');

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const mean = [0.3, 0.4, 0.5];
    const std = [0.2, 0.25, 0.3];
    const model = buildModel('resnet20', { numClasses: 7, mean, std, seed: 3 });
    // Non-trivial BN statistics, so eval-mode BN is exercised by both paths.
    const rng = new Rng(11);
    for (const [name, t] of model.stateDict()) {
      if (name.endsWith('running_mean')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * 0.1;
      if (name.endsWith('running_var')) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + rng.uniform();
    }
    const meta: CheckpointMeta = {
      arch: 'resnet20', numClasses: 7, inputSize: 32, classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], mean, std, data: 'fashion-mnist',
      trainSubset: { method: 'all', seed: 0, split: 'train', n: 0, of: 0, sha256: '0' } as never, preprocess: 'dec-pil', preprocessImpl: 'pil-exact/1',
      seed: 3, epochs: 0, steps: 0, recipe: {}, nc: false, versions: {},
    };
    saveCheckpoint(ckpt, model, meta);
    const loaded = loadCheckpoint(ckpt).model;
    writeFileSync(fixed, encodeModel(exportOnnx(loaded, { inputSize: 32 })));
    writeFileSync(symbolic, encodeModel(exportOnnx(loaded, { inputSize: 32, symbolicSize: true })));
    const x = new Float32Array(3 * 3 * 32 * 32);
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
    writeNpy(npy, x, [3, 3, 32, 32]);
  });

  it('fixed-size export: same top-5 and logits within 1e-5 relative', () => {
    const a = cli(['infer', '--model', ckpt, '--input', npy, '--json']);
    const b = cli(['infer', '--model', fixed, '--input', npy, '--json']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const ja = JSON.parse(a.stdout);
    const jb = JSON.parse(b.stdout);
    assert.deepEqual(jb.top5, ja.top5);
    assert.equal(jb.logits.length, 3);
    const scale = Math.max(...ja.logits.flat().map(Math.abs));
    ja.logits.flat().forEach((v: number, i: number) => assert.ok(Math.abs(v - jb.logits.flat()[i]) <= 1e-5 * scale, `logit ${i}: ${v} vs ${jb.logits.flat()[i]}`));
  });

  it('symbolic spatial dims need --size, and a contradicting --size is named', () => {
    const miss = cli(['infer', '--model', symbolic, '--input', npy, '--json']);
    assert.equal(miss.code, 2, miss.stderr);
    assert.match(miss.stderr, /Expected --size for .*symbolic/);
    const ok = cli(['infer', '--model', symbolic, '--input', npy, '--size', '32', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).logits.length, 3);
    const bad = cli(['infer', '--model', fixed, '--input', npy, '--size', '64']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /Expected 32 .* for --size but received 64/);
  });

  it('export --format onnx: onnxruntime-node gives the checkpoint\'s logits within 1e-5 relative, and infer reads the file back', async () => {
    const out = join(dir, 'exported.onnx');
    const e = cli(['export', '--model', ckpt, '--format', 'onnx', '--out', out, '--json']);
    assert.equal(e.code, 0, e.stderr);
    const rec = JSON.parse(e.stdout);
    assert.equal(rec.format, 'onnx');
    assert.equal(rec.numClasses, 7);
    const ref = JSON.parse(cli(['infer', '--model', ckpt, '--input', npy, '--json']).stdout);
    const sess = await ort.InferenceSession.create(out);
    const x = readNpy(npy).data as Float32Array;
    const res = await sess.run({ [sess.inputNames[0]!]: new ort.Tensor('float32', x, [3, 3, 32, 32]) });
    const got = Array.from(res[sess.outputNames[0]!]!.data as Float32Array);
    const want = ref.logits.flat() as number[];
    assert.equal(got.length, want.length);
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) <= 1e-5 * scale, `logit ${i}: ours ${v} ort ${got[i]}`));
    const back = JSON.parse(cli(['infer', '--model', out, '--input', npy, '--json']).stdout);
    assert.deepEqual(back.top5, ref.top5);
    const bad = cli(['export', '--model', out, '--format', 'onnx', '--out', join(dir, 'again.onnx')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /FP checkpoint for --model with --format onnx.*already ONNX/);
    const fmt = cli(['export', '--model', ckpt, '--format', 'tflite', '--out', out]);
    assert.equal(fmt.code, 2);
    assert.match(fmt.stderr, /Expected one of onnx, qdq, qonnx, int4 for --format but received 'tflite'/);
  });

  it('a missing .onnx file is a named usage error', () => {
    const r = cli(['infer', '--model', join(dir, 'nope.onnx'), '--input', npy]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ONNX model for --model.*nope\.onnx.*not found/);
  });
});
