/**
 * The deploy commands end to end (spawned CLI): `infer --target x86-onnxruntime` on a user's QDQ model gives
 * onnxruntime-node's logits exactly; `export` of that model round-trips; named errors (exit 2) for an impossible
 * export format, an unknown target id and a missing target file.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadGeneratedFixtures } from '../unit/generated-fixtures.ts';
import { writeNpy } from '../../ts/attacks/npy.ts';
import { Rng } from '../../ts/util/rng.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'test', '.generated', 'qonnx');
const cli = (...args: string[]) => spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300000 });

describe('deploy: CLI (infer --target, export, named errors)', function () {
  this.timeout(300000);
  const fx = loadGeneratedFixtures<{ models: Record<string, { file: string }> }>({ python: '/usr/bin/python3', script: join(ROOT, 'scripts', 'gen-qonnx-fixtures.py'), dir: DIR, module: 'onnx', apt: 'python3-onnx' });
  let tmp = '';
  before(function () {
    if (!fx.manifest) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'qrobust-deploy-'));
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('infer --target x86-onnxruntime on a QLinear model prints onnxruntime-node\'s logits exactly', async () => {
    const model = join(DIR, fx.manifest!.models.qlinear!.file);
    const rng = new Rng(3), shape = [2, 3, 9, 9];
    const x = Float32Array.from({ length: 2 * 3 * 81 }, () => Math.fround(rng.uniform()));
    writeNpy(join(tmp, 'x.npy'), x, shape);
    const r = cli('infer', '--model', model, '--target', 'x86-onnxruntime', '--input', join(tmp, 'x.npy'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { logits: number[][] };
    const s = await ort.InferenceSession.create(readFileSync(model), { intraOpNumThreads: 1 });
    const ref = (await s.run({ x: new ort.Tensor('float32', x, shape) })).logits!.data as Float32Array;
    await s.release();
    assert.deepEqual(got.logits.flat(), Array.from(ref));
  });

  it('export --format qdq of an imported QDQ model writes a model onnxruntime runs with the same outputs', async () => {
    const model = join(DIR, fx.manifest!.models.qdq!.file);
    const out = join(tmp, 'qdq-again.onnx');
    const r = cli('export', '--model', model, '--format', 'qdq', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const rng = new Rng(5), shape = [3, 3, 10, 10];
    const x = Float32Array.from({ length: 900 }, () => Math.fround(rng.uniform()));
    const a = await ort.InferenceSession.create(readFileSync(model), { intraOpNumThreads: 1 });
    const b = await ort.InferenceSession.create(readFileSync(out), { intraOpNumThreads: 1 });
    const ya = (await a.run({ x: new ort.Tensor('float32', x, shape) })).dq8!.data, yb = (await b.run({ x: new ort.Tensor('float32', x, shape) })).dq8!.data;
    assert.deepEqual(Array.from(yb as Float32Array), Array.from(ya as Float32Array));
    await a.release();
    await b.release();
  });

  it('named errors, exit code 2', () => {
    const model = join(DIR, fx.manifest!.models.qdq!.file);
    const f = cli('export', '--model', model, '--format', 'tflite', '--out', join(tmp, 'x.onnx'));
    assert.equal(f.status, 2);
    assert.match(f.stderr, /Expected one of onnx, qdq, qonnx, int4 for --format but received 'tflite'/);
    const t = cli('parity', '--model', model, '--target', 'rpi6-tflite');
    assert.equal(t.status, 2);
    assert.match(t.stderr, /for --target but received 'rpi6-tflite'/);
    const j = cli('parity', '--model', model, '--target', join(tmp, 'nope.json'));
    assert.equal(j.status, 2);
    assert.match(j.stderr, /Target file .*nope\.json does not exist/);
  });
});
