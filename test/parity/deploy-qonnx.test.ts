/**
 * Acceptance 4 of issue 10: user-built quantized ONNX models (scripts/gen-qonnx-fixtures.py, Debian's
 * python3-onnx: QOperator ops, ConvInteger / MatMulInteger, QDQ graphs with per-channel, depthwise and strided
 * convolutions) imported onto our integer engine and run under `x86-onnxruntime` give outputs identical to
 * onnxruntime-node (the oracle only; our results never come from it). Also checks which nodes stay float:
 * the same ones ORT's optimised model leaves unfused.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadGeneratedFixtures } from '../unit/generated-fixtures.ts';
import { importQuantizedOnnx } from '../../ts/formats/onnx-qimport.ts';
import { runGraph } from '../../ts/deploy/exec.ts';
import { lowerForTarget } from '../../ts/deploy/lower.ts';
import { loadTarget } from '../../ts/targets/index.ts';
import { Rng } from '../../ts/util/rng.ts';

interface Manifest { versions: Record<string, string>; models: Record<string, { file: string; input: string; shape: number[]; outputs: string[] }> }

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'test', '.generated', 'qonnx');

describe('deploy: quantized ONNX import vs onnxruntime-node (x86-onnxruntime)', function () {
  this.timeout(120000);
  const fx = loadGeneratedFixtures<Manifest>({ python: '/usr/bin/python3', script: join(ROOT, 'scripts', 'gen-qonnx-fixtures.py'), dir: DIR, module: 'onnx', apt: 'python3-onnx' });
  before(function () {
    if (!fx.manifest) this.skip();
  });
  const target = loadTarget('x86-onnxruntime');
  const N = 16;
  for (const name of ['qlinear', 'integer', 'qdq', 'qdq-s8']) {
    it(`${name}: every output element equals onnxruntime-node's (batch ${N}, optimisation levels basic and all)`, async () => {
      const m = fx.manifest!.models[name]!;
      const bytes = readFileSync(join(DIR, m.file));
      const shape = [N, ...m.shape];
      const rng = new Rng(7);
      const x = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => Math.fround(rng.uniform() * 1.2 - 0.1));
      const g = lowerForTarget(importQuantizedOnnx(bytes), target);
      const ours = runGraph(g, x, shape, target);
      for (const level of ['basic', 'all'] as const) {
        const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1, executionProviders: ['cpu'] });
        const res = await s.run({ [m.input]: new ort.Tensor('float32', x, shape) });
        for (const o of m.outputs) {
          const a = res[o]!.data as ArrayLike<number>, b = ours.get(o)!.data;
          assert.equal(b.length, a.length, `${name}/${o}: length`);
          let bad = 0, first = '';
          for (let i = 0; i < a.length; i++) if (Number(a[i]) !== Number(b[i])) { bad++; if (!first) first = `[${i}] ort ${a[i]} ours ${b[i]}`; }
          if (level === 'all' || name === 'qlinear' || name === 'integer') assert.equal(bad, 0, `${name}/${o} (${level}): ${bad} of ${a.length} differ; first ${first}`);
          else console.log(`      ${name}/${o} with ORT level basic (QDQ unfused, float fake-quant): ${bad} of ${a.length} elements differ`);
        }
        await s.release();
      }
    });
  }

  it('keeps in float exactly the node units ORT 1.30 leaves unfused (read from its optimised models)', () => {
    const kinds = (name: string): string => importQuantizedOnnx(readFileSync(join(DIR, fx.manifest!.models[name]!.file))).nodes
      .map((n) => (n.op === 'float' ? n.node.opType : n.op)).join(' ');
    assert.equal(kinds('qdq'), 'quantize qconv qconv dequantize qconv qadd dequantize qgap flatten qgemm dequantize');
    // int8 QDQ: ORT converts only single-use Q/DQ pairs to uint8; units with int8 activations stay float
    assert.equal(kinds('qdq-s8'), 'quantize qconv dequantize Conv quantize dequantize Conv quantize dequantize Add quantize dequantize GlobalAveragePool quantize flatten qgemm dequantize');
  });

  it('the comparison discriminates: under rpi4-tflite-noxnnpack (double rounding, RHAZ input quantization) the same QDQ graph differs from ORT', async () => {
    const m = fx.manifest!.models.qdq!;
    const bytes = readFileSync(join(DIR, m.file));
    const shape = [N, ...m.shape];
    const rng = new Rng(7);
    const x = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => Math.fround(rng.uniform() * 1.2 - 0.1));
    const t = loadTarget('rpi4-tflite-noxnnpack');
    const ours = runGraph(lowerForTarget(importQuantizedOnnx(bytes, { policy: 'all' }), t), x, shape, t);
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const res = await s.run({ [m.input]: new ort.Tensor('float32', x, shape) });
    const a = res.dq3!.data as Float32Array, b = ours.get('dq3')!.data;
    let bad = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad++;
    console.log(`      qdq/dq3 under rpi4-tflite-noxnnpack: ${bad} of ${a.length} elements differ from ORT`);
    assert.ok(bad > 0);
    await s.release();
  });
});
