/**
 * `qrobust quantize` and `qrobust eval` on a q-checkpoint through the real entry point (ts/cli/bin.mjs): a tiny
 * QAT run prints its record (the one written beside the checkpoint), `eval` evaluates the fake-quant model,
 * and bad input is a one-line exit-2 error naming the option.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { trainModel } from '../../../ts/train/loop.ts';
import { saveCheckpoint } from '../../../ts/train/checkpoint.ts';

const dir = join(repoRoot, 'test', '.generated', 'quant-cli');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 600000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: { code: number; stderr: string }, code: number, re: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

describe('quant: the quantize CLI', function () {
  this.timeout(900000);
  const fp = join(dir, 'fp.safetensors');
  const q = join(dir, 'lsq-4.safetensors');
  before(async () => {
    setQuiet(true);
    mkdirSync(dir, { recursive: true });
    const r = await trainModel({ arch: 'resnet20', data: 'fashion-mnist', batch: 32, trainLimit: 64, epochs: 1, testLimit: 0, seed: 1 });
    saveCheckpoint(fp, r.model, r.meta);
  });
  after(() => setQuiet(false));

  it('quantize --json prints the record written beside the q-checkpoint; eval runs the fake-quant model', () => {
    const r = cli(['quantize', '--model', fp, '--method', 'lsq', '--bits', '4', '--out', q, '--train-limit', '64', '--batch', '32', '--test-limit', '20', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'lsq-4.json'), 'utf8')), rec);
    for (const k of ['method', 'bits', 'variant', 'observer_mode', 'epochs', 'seed', 'top1', 'nc']) assert.ok(k in rec, k);
    assert.equal(rec.method, 'lsq');
    assert.equal(rec.bits, 4);
    const e = cli(['eval', '--model', q, '--test-limit', '20', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const ev = JSON.parse(e.stdout.trim()) as { suite: string; top1: number; n: number };
    assert.equal(ev.suite, 'clean');
    assert.equal(ev.n, 20);
    assert.equal(ev.top1, rec.top1, 'eval of the q-checkpoint gives the top-1 of the record (same subset, frozen observers)');
  });

  it('bad input: bits 3, an unknown method, a q-checkpoint where an FP one is required, a bad --out', () => {
    oneLineError(cli(['quantize', '--model', fp, '--method', 'lsq', '--bits', '3', '--out', join(dir, 'x.safetensors')]), 2, /Expected one of 2, 4, 6, 8 for --bits but received '3'/);
    oneLineError(cli(['quantize', '--model', fp, '--method', 'binary', '--bits', '4', '--out', join(dir, 'x.safetensors')]), 2, /Expected one of dorefa, pact, lsq for --method but received 'binary'/);
    oneLineError(cli(['quantize', '--model', q, '--method', 'pact', '--bits', '4', '--out', join(dir, 'x.safetensors'), '--train-limit', '64', '--batch', '32']), 2, /Expected a float \(FP\) checkpoint for --model but .*lsq-4\.safetensors is already quantized \(lsq-4\)/);
    oneLineError(cli(['quantize', '--model', fp, '--method', 'pact', '--bits', '4', '--out', join(dir, 'x.onnx')]), 2, /--out/);
    oneLineError(cli(['quantize', '--model', join(dir, 'missing.safetensors'), '--method', 'pact', '--bits', '4', '--out', join(dir, 'x.safetensors')]), 2, /not found/);
  });
});
