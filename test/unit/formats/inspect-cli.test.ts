import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/cli.test.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { TORCH_DIR, torchFixtures } from './fixtures.ts';
import { DataType, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray, writeModel } from '../../../ts/formats/onnx.ts';
import type { Expected } from './fixtures.ts';

const SCRATCH = join(repoRoot, 'test', '.generated', 'formats');

describe('cli: inspect', function () {
  let expected: Expected | null = null;

  before(function () {
    this.timeout(300000);
    mkdirSync(SCRATCH, { recursive: true });
    const f = torchFixtures();
    if (!('skip' in f)) expected = f.expected;
  });

  it('a missing file: one line naming it, exit 2', () => {
    const r = runCli(['inspect', 'no/such/model.onnx']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /no\/such\/model\.onnx.*does not exist/);
  });

  it('a corrupt .onnx and a corrupt .safetensors: one line naming the file and the problem, exit 1', () => {
    const onnx = join(SCRATCH, 'corrupt.onnx');
    writeFileSync(onnx, new Uint8Array([0x08, 0x07, 0x38, 0x01]));
    let r = runCli(['inspect', onnx, '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(r.stderr.includes(`${onnx}: not a valid ONNX model: model.graph (field 7 of ModelProto) has protobuf wire type 0, expected 2`), r.stderr);

    const st = join(SCRATCH, 'corrupt.safetensors');
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(1000n, 0);
    writeFileSync(st, b);
    r = runCli(['inspect', st]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(r.stderr.includes(`${st}: not a valid safetensors file: header length 1000 runs past the end of the file (16 bytes)`), r.stderr);
  });

  it('a built model: symbolic dims, non-tensor types, initializers listed as inputs are left out, domains in op counts', () => {
    const file = join(SCRATCH, 'inspect-built.onnx');
    const w = tensorFromArray('w', DataType.INT4, [3, 5], new Array<number>(15).fill(-1));
    const g = makeGraph([makeNode('DequantizeLinear', ['w', 's'], ['wf']), makeNode('MatMul', ['x', 'wf'], ['y']), makeNode('Foo', ['y'], ['z'], {}, 'f', 'com.example')], 'built',
      [makeValueInfo('x', DataType.FLOAT, ['N', 3]), makeValueInfo('w', DataType.INT4, [3, 5])],
      [makeValueInfo('y', DataType.FLOAT, ['N', 5]), { name: 'z', type: { sequenceType: { elemType: { tensorType: { elemType: DataType.FLOAT } } } } }],
      [w, tensorFromArray('s', DataType.FLOAT, [], [0.5])]);
    writeModel(file, makeModel(g, { opsetImports: [{ domain: '', version: 21 }, { domain: 'com.example', version: 1 }] }));
    const r = runCli(['inspect', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.irVersion, 10);
    assert.deepEqual(j.opsets, [{ domain: 'ai.onnx', version: 21 }, { domain: 'com.example', version: 1 }]);
    assert.deepEqual(j.inputs, [{ name: 'x', elemType: 'FLOAT', shape: ['N', 3] }]);
    assert.deepEqual(j.outputs, [{ name: 'y', elemType: 'FLOAT', shape: ['N', 5] }, { name: 'z', elemType: 'sequence<FLOAT>', shape: null }]);
    assert.deepEqual(j.opCounts, { 'DequantizeLinear': 1, 'MatMul': 1, 'com.example.Foo': 1 });
    assert.equal(j.initializers, 2);
    assert.equal(j.parameters, 16);
    const t = runCli(['inspect', file]);
    assert.match(t.stdout, /input   x: FLOAT \[N, 3\]\n/);
    assert.match(t.stdout, /output  z: sequence<FLOAT>\n/);
    assert.match(t.stdout, /initializers 2, parameters 16/);
  });

  it('--json on the torch resnet18 .onnx prints one object with the counts onnx reports', function () {
    if (!expected) this.skip();
    const e = expected.models.resnet18.onnx;
    const r = runCli(['inspect', join(TORCH_DIR, 'resnet18.onnx'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!);
    assert.equal(j.format, 'onnx');
    assert.equal(j.irVersion, e.ir_version);
    assert.deepEqual(j.opsets, [{ domain: 'ai.onnx', version: 13 }]);
    assert.deepEqual(j.producer, { name: e.producer_name, version: e.producer_version });
    assert.equal(j.nodes, e.nodes);
    assert.deepEqual(j.opCounts, e.op_counts);
    assert.equal(j.initializers, e.initializers);
    assert.equal(j.parameters, e.parameters);
    assert.deepEqual(j.inputs, [{ name: 'input', elemType: 'FLOAT', shape: [1, 3, 224, 224] }]);
    assert.deepEqual(j.outputs, [{ name: 'logits', elemType: 'FLOAT', shape: [1, 1000] }]);
  });

  it('safetensors: text lists tensors and metadata; --json has dtypes, shapes and the parameter count', function () {
    if (!expected) this.skip();
    const file = join(TORCH_DIR, 'mobilenet_v2.safetensors');
    const t = runCli(['inspect', file]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /safetensors, \d+ bytes, 314 tensors/);
    assert.match(t.stdout, /metadata arch = mobilenet_v2/);
    assert.match(t.stdout, /features\.0\.0\.weight +F32 +\[32, 3, 3, 3\]/);
    const r = runCli(['inspect', file, '--json']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.tensorCount, expected.models.mobilenet_v2.state_dict.tensors);
    assert.equal(j.parameters, expected.models.mobilenet_v2.state_dict.parameters);
    assert.deepEqual(j.metadata, { format: 'pt', arch: 'mobilenet_v2', seed: '0' });
    assert.deepEqual(j.tensors[0], { name: 'features.0.0.weight', dtype: 'F32', shape: [32, 3, 3, 3], elements: 864 });
    // a file without a known extension is recognised by content
    const copy = join(SCRATCH, 'dtypes.bin');
    writeFileSync(copy, readFileSync(join(TORCH_DIR, 'dtypes.safetensors')));
    assert.equal(JSON.parse(runCli(['inspect', copy, '--json']).stdout).format, 'safetensors');
  });
});
