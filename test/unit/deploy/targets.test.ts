/**
 * Target profiles: every shipped file loads; the strict schema names the file, the field, what is allowed
 * and what was received for a typo'd key, a bad value, a missing field and the cross-field rules.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS_DIR, TARGET_IDS, TargetSchemaError, UnknownTargetError, listTargets, loadTarget, parseTarget } from '../../../ts/targets/index.ts';

const base = (): Record<string, unknown> => JSON.parse(readFileSync(join(TARGETS_DIR, 'rpi4-tflite.json'), 'utf8')) as Record<string, unknown>;

describe('deploy: target profiles', () => {
  it('ships one valid profile per target id of CONVENTIONS.md (and the A72-wrap variant)', () => {
    assert.deepEqual(listTargets(), [...TARGET_IDS].sort());
    for (const id of TARGET_IDS) assert.equal(loadTarget(id).id, id);
    assert.equal(loadTarget('x86-onnxruntime').arithmetic.conv, 'ort-mlas');
    assert.equal(loadTarget('rpi4-tflite').hazard, 'a72-int16-pair');
    assert.equal(loadTarget('rpi4-tflite').weights.minus128, 'clamp');
    assert.equal(loadTarget('rpi4-tflite-a72wrap').weights.minus128, 'keep');
    assert.equal(loadTarget('jetson-orin-tensorrt').activations, 'int8-symmetric');
    assert.equal(loadTarget('jetson-nano-fp16').execution, 'fp16');
  });

  it('a typo in a key is a named error listing the allowed keys', () => {
    const t = base();
    t.hazzard = t.hazard;
    delete t.hazard;
    assert.throws(() => parseTarget(t, 'typo.json'), (e: Error) => e instanceof TargetSchemaError && /typo\.json/.test(e.message) && /'hazzard'/.test(e.message) && /allowed: id, description/.test(e.message));
    const w = base();
    (w.weights as Record<string, unknown>).minus_128 = 'keep';
    assert.throws(() => parseTarget(w, 'w.json'), /no such key \(allowed: range, minus128\) for 'weights\.minus_128'/);
  });

  it('a bad value names the field, the allowed values and what was received', () => {
    const t = base();
    (t.arithmetic as Record<string, unknown>).conv = 'xnnpack-fp33';
    assert.throws(() => parseTarget(t, 'v.json'), /Target file v\.json: expected one of float, tflite-double.* for 'arithmetic\.conv' but received 'xnnpack-fp33' of type string/);
    const p = base();
    p.pipeline = 'rs-opencv-bilinear';
    assert.throws(() => parseTarget(p, 'p.json'), /'pipeline' but received 'rs-opencv-bilinear'/);
    const b = base();
    b.depthwiseUpward = 'no';
    assert.throws(() => parseTarget(b, 'b.json'), /expected true or false for 'depthwiseUpward'/);
  });

  it('a missing field is a named error', () => {
    const t = base();
    delete t.pipeline;
    assert.throws(() => parseTarget(t, 'm.json'), /expected a value \(the field is required\) for 'pipeline' but received nothing/);
    const a = base();
    delete (a.arithmetic as Record<string, unknown>).quantize;
    assert.throws(() => parseTarget(a, 'm.json'), /'arithmetic\.quantize'/);
  });

  it('cross-field rules: TensorRT needs symmetric activations, the A72 hazard int8, integer targets integer arithmetic', () => {
    const t = JSON.parse(readFileSync(join(TARGETS_DIR, 'jetson-orin-tensorrt.json'), 'utf8')) as Record<string, unknown>;
    t.activations = 'int8';
    assert.throws(() => parseTarget(t, 'trt.json'), /'int8-symmetric' \(trt-gpu is symmetric only\) for 'activations'/);
    const a = base();
    a.activations = 'uint8';
    assert.throws(() => parseTarget(a, 'a.json'), /only with int8 activations for 'hazard'/);
    const f = base();
    (f.arithmetic as Record<string, unknown>).gemm = 'float';
    assert.throws(() => parseTarget(f, 'f.json'), /integer requantization variant for an integer target for 'arithmetic\.gemm'/);
  });

  it('an unknown id lists the shipped ids; a missing file and a syntax error are named', () => {
    assert.throws(() => loadTarget('rpi6-tflite'), (e: Error) => e instanceof UnknownTargetError && /for --target but received 'rpi6-tflite'/.test(e.message) && /x86-onnxruntime/.test(e.message));
    assert.throws(() => loadTarget('/nonexistent/t.json'), /Target file \/nonexistent\/t\.json does not exist/);
  });
});
