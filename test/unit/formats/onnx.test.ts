import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  AttributeType, DataType, ELEMENT_TYPES, ONNX_DESCRIPTOR, bfloat16BitsToFloat32, dataTypeName, decodeModel, encodeModel,
  float16BitsToFloat32, float32ToBFloat16Bits, float32ToFloat16Bits, makeAttribute, makeGraph, makeModel, makeNode,
  makeValueInfo, packSubByte, readModel, tensorFromArray, tensorToArray, unpackSubByte, valueInfoShape, writeModel,
} from '../../../ts/formats/onnx.ts';
import type { OnnxModel, TensorProto } from '../../../ts/formats/onnx.ts';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { TORCH_DIR, torchFixtures } from './fixtures.ts';
import type { Expected } from './fixtures.ts';

const SCRATCH = join(repoRoot, 'test', '.generated', 'formats');

/** A tiny valid model: y = x + c. */
function addModel(): OnnxModel {
  return makeModel(makeGraph([makeNode('Add', ['x', 'c'], ['y'], {}, 'add0')], 'add',
    [makeValueInfo('x', DataType.FLOAT, [2, 3])], [makeValueInfo('y', DataType.FLOAT, [2, 3])],
    [tensorFromArray('c', DataType.FLOAT, [2, 3], [1, 2, 3, 4, 5, 6])]));
}

async function runOrt(m: OnnxModel, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(encodeModel(m));
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Protobuf varint bytes of n. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const lenField = (field: number, body: number[]): number[] => [...varint((field << 3) | 2), ...varint(body.length), ...body];

describe('formats: onnx', function () {
  let expected: Expected | null = null;

  before(function () {
    this.timeout(300000);
    const f = torchFixtures();
    if ('skip' in f) {
      console.warn(`    skipping torch fixture tests: ${f.skip}`);
      return;
    }
    expected = f.expected;
  });

  describe('torch-exported models', () => {
    for (const arch of ['resnet18', 'mobilenet_v2'] as const) {
      it(`${arch}: encode(decode(bytes)) is byte-identical`, function () {
        if (!expected) this.skip();
        const bytes = readFileSync(join(TORCH_DIR, `${arch}.onnx`));
        const t0 = performance.now();
        const m = decodeModel(bytes, `${arch}.onnx`);
        const t1 = performance.now();
        const again = encodeModel(m);
        const t2 = performance.now();
        assert.equal(again.length, bytes.length);
        assert.ok(Buffer.from(again.buffer, again.byteOffset, again.length).equals(bytes), 'bytes differ');
        console.log(`      ${arch}.onnx ${(bytes.length / 1e6).toFixed(1)} MB: decode ${(t1 - t0).toFixed(0)} ms, encode ${(t2 - t1).toFixed(0)} ms`);
      });

      it(`${arch}: structure and values match what onnx (Python) reads`, function () {
        if (!expected) this.skip();
        const e = expected.models[arch].onnx;
        const m = readModel(join(TORCH_DIR, `${arch}.onnx`));
        assert.equal(m.irVersion, e.ir_version);
        assert.deepEqual((m.opsetImport ?? []).map((o) => [o.domain ?? '', Number(o.version)]), e.opset);
        assert.equal(m.producerName, e.producer_name);
        assert.equal(m.producerVersion, e.producer_version);
        const g = m.graph!;
        assert.equal(g.node!.length, e.nodes);
        const ops: Record<string, number> = {};
        for (const n of g.node!) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
        assert.deepEqual(ops, e.op_counts);
        assert.equal(g.initializer!.length, e.initializers);
        let params = 0;
        for (const t of g.initializer!) params += (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
        assert.equal(params, e.parameters);
        assert.deepEqual(g.input!.map((v) => [v.name, valueInfoShape(v)]), e.inputs);
        assert.deepEqual(g.output!.map((v) => [v.name, valueInfoShape(v)]), e.outputs);
        const first = g.initializer![0]!;
        assert.equal(first.name, e.first_initializer.name);
        assert.deepEqual(first.dims, e.first_initializer.dims);
        assert.equal(first.dataType, e.first_initializer.data_type);
        const vals = tensorToArray(first) as Float32Array;
        assert.ok(vals instanceof Float32Array);
        assert.deepEqual(Array.from(vals.subarray(0, 8)), e.first_initializer.first.map(Math.fround));
        let sum = 0;
        for (const v of vals) sum += v;
        assert.ok(Math.abs(sum - e.first_initializer.sum) <= 1e-9 * Math.max(1, Math.abs(e.first_initializer.sum)), `${sum} vs ${e.first_initializer.sum}`);
        // Zero-copy: the values are a view of the file's bytes when aligned.
        if ((first.rawData!.byteOffset & 3) === 0) assert.equal(vals.buffer, first.rawData!.buffer);
      });
    }

    it('an edited torch model re-encodes to what the edit says, and still runs in onnxruntime', async function () {
      if (!expected) this.skip();
      this.timeout(60000);
      const m = readModel(join(TORCH_DIR, 'mobilenet_v2.onnx'));
      m.producerName = 'qrobust-test';
      m.graph!.node![0]!.name = 'renamed';
      const bytes = encodeModel(m);
      const back = decodeModel(bytes);
      assert.equal(back.producerName, 'qrobust-test');
      assert.equal(back.graph!.node![0]!.name, 'renamed');
      assert.ok(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes)));
      const x = new Float32Array(3 * 224 * 224).fill(0.5);
      const out = await runOrt(back, { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) });
      assert.deepEqual(out.logits!.dims, [1, 1000]);
      assert.ok(Array.from(out.logits!.data as Float32Array).every(Number.isFinite));
    });
  });

  describe('descriptor and element types', () => {
    it('the descriptor enum, DataType and ELEMENT_TYPES agree; the numbers are the specification\'s', () => {
      const tensorNs = (ONNX_DESCRIPTOR.nested!.onnx as { nested: Record<string, { nested: Record<string, { values?: Record<string, number> }> }> }).nested.TensorProto!.nested;
      assert.deepEqual(tensorNs.DataType!.values, DataType);
      assert.deepEqual(Object.keys(ELEMENT_TYPES), Object.keys(DataType));
      assert.deepEqual([DataType.FLOAT8E4M3FN, DataType.FLOAT8E5M2FNUZ, DataType.UINT4, DataType.INT4, DataType.FLOAT4E2M1, DataType.FLOAT8E8M0, DataType.UINT2, DataType.INT2], [17, 20, 21, 22, 23, 24, 25, 26]);
      assert.equal(dataTypeName(22), 'INT4');
      assert.throws(() => dataTypeName(99), QrobustError);
    });

    it('proto2 wire format: AttributeProto.ints is expanded, TensorProto.int64_data is packed', () => {
      const a = encodeModel({ irVersion: 7, graph: { node: [{ opType: 'X', attribute: [{ name: 'a', type: AttributeType.INTS, ints: [1, 2] }] }] } });
      // attribute field 8 appears once per value: tag 0x40 twice
      assert.equal([...a].filter((b) => b === 0x40).length, 2);
      const t = encodeModel({ irVersion: 7, graph: { initializer: [{ dims: [2], dataType: DataType.INT64, int64Data: [1, 2] }] } });
      // int64_data field 7 as one length-delimited record: tag 0x3a, length 2, values 1, 2
      const i = [...t].lastIndexOf(0x3a);
      assert.deepEqual([...t.subarray(i, i + 4)], [0x3a, 2, 1, 2]);
    });
  });

  describe('int64 and unknown fields', () => {
    it('int64 values beyond 2^53 come back as exact bigints; smaller ones as numbers', () => {
      const big = 9223372036854775807n;
      const m = makeModel(makeGraph([makeNode('Slice', ['x', 's', 'e'], ['y'], { big: [big, -big - 1n, 5], safe: 9007199254740991 })], 'g', [], []));
      const back = decodeModel(encodeModel(m));
      const attrs = back.graph!.node![0]!.attribute!;
      assert.deepEqual(attrs[0]!.ints, [big, -big - 1n, 5]);
      assert.equal(attrs[1]!.i, 9007199254740991);
      assert.equal(typeof attrs[1]!.i, 'number');
      const t = tensorFromArray('e', DataType.INT64, [2], [big, -1n]);
      assert.deepEqual(Array.from(tensorToArray(t) as BigInt64Array), [big, -1n]);
    });

    it('unknown fields survive decode → encode, at the top level and inside nodes', () => {
      const base = [...encodeModel({ irVersion: 8 })];
      // field 99 (varint 5) at the top level; a node with field 77 (string "hi") inside the graph
      const node = [...lenField(4, [0x41]), ...lenField(77, [0x68, 0x69])];
      const graph = lenField(1, node);
      const bytes = new Uint8Array([...base, ...lenField(7, graph), ...varint((99 << 3) | 0), 5]);
      const m = decodeModel(bytes, 'unknown.onnx');
      assert.equal(m.graph!.node![0]!.opType, 'A');
      assert.deepEqual([...encodeModel(m)], [...bytes]);
    });
  });

  describe('sub-byte packing (ONNX: element 0 in the low bits)', () => {
    const vectors: [keyof typeof DataType, number[], number[]][] = [
      ['INT4', [1, -1, 3], [0xf1, 0x03]],
      ['INT4', [-8, 7, 0, -1, 5], [0x78, 0xf0, 0x05]],
      ['UINT4', [15, 0, 9], [0x0f, 0x09]],
      ['UINT4', [1, 2, 3, 4, 5, 6, 7], [0x21, 0x43, 0x65, 0x07]],
      ['INT2', [-2, -1, 0, 1, 1], [0x4e, 0x01]],
      ['UINT2', [3, 2, 1, 0, 3, 1, 2], [0x1b, 0x27]],
      ['UINT2', [1], [0x01]],
    ];
    for (const [type, values, packed] of vectors) {
      it(`${type} ${JSON.stringify(values)} ↔ ${packed.map((b) => `0x${b.toString(16)}`).join(' ')}`, () => {
        const t = tensorFromArray('q', DataType[type], [values.length], values);
        assert.deepEqual([...t.rawData!], packed);
        const back = tensorToArray(t);
        assert.ok(type.startsWith('INT') ? back instanceof Int8Array : back instanceof Uint8Array);
        assert.deepEqual(Array.from(back as Int8Array), values);
        // the same bytes carried in int32_data, one packed byte per int32
        assert.deepEqual(Array.from(tensorToArray({ name: 'q', dataType: DataType[type], dims: [values.length], int32Data: packed }) as Int8Array), values);
      });
    }

    it('packSubByte / unpackSubByte round-trip every value at odd lengths', () => {
      for (const [bits, lo, hi] of [[4, -8, 7], [2, -2, 1]] as const) {
        const vals: number[] = [];
        for (let v = lo; v <= hi; v++) vals.push(v);
        vals.push(lo); // odd count for both widths
        assert.deepEqual(Array.from(unpackSubByte(packSubByte(vals, bits), vals.length, bits, true)), vals);
      }
    });

    it('out-of-range values and wrong counts are named errors', () => {
      assert.throws(() => tensorFromArray('w', DataType.INT4, [2], [8, 0]), (e: unknown) => e instanceof UsageError && /integer -8\.\.7 for w\[0\] but received 8/.test(e.message));
      assert.throws(() => tensorFromArray('w', DataType.UINT2, [1], [4]), /integer 0\.\.3 for w\[0\]/);
      assert.throws(() => tensorFromArray('w', DataType.INT2, [1], [0.5]), UsageError);
      assert.throws(() => tensorFromArray('w', DataType.FLOAT, [2, 2], [1, 2, 3]), /Expected 4 values for tensor w of shape \[2, 2\] but received 3/);
      assert.throws(() => tensorToArray({ name: 'w', dataType: DataType.INT4, dims: [5], rawData: new Uint8Array(2) }), /tensor 'w': raw_data has 2 bytes, expected 3 for 5 INT4 elements/);
      assert.throws(() => tensorToArray({ name: 'w', dataType: DataType.FLOAT, dims: [1], dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }), /stored externally \(location w\.bin\)/);
    });

    for (const [type, values, opset, ir] of [
      ['INT4', [1, -1, 3, -8, 7], 21, 10], ['UINT4', [15, 0, 9, 1, 2], 21, 10],
      ['INT2', [-2, -1, 0, 1, 1], 25, 12], ['UINT2', [3, 2, 1, 0, 3], 25, 12],
    ] as const) {
      it(`onnxruntime dequantizes our ${type} initializer to the same values`, async () => {
        const g = makeGraph([makeNode('DequantizeLinear', ['q', 's'], ['y'])], 'dq', [], [makeValueInfo('y', DataType.FLOAT, [values.length])],
          [tensorFromArray('q', DataType[type], [values.length], values), tensorFromArray('s', DataType.FLOAT, [], [1])]);
        const out = await runOrt(makeModel(g, { opsetImports: [{ domain: '', version: opset }], irVersion: ir }), {});
        assert.deepEqual(Array.from(out.y!.data as Float32Array), values);
      });
    }
  });

  describe('float16 / bfloat16', () => {
    it('float32ToFloat16Bits rounds to nearest even', () => {
      const cases: [number, number][] = [
        [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001], [2 ** -25, 0x0000],
        [3 * 2 ** -25, 0x0002], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00], [-0, 0x8000], [2 ** -14, 0x0400],
      ];
      for (const [v, h] of cases) assert.equal(float32ToFloat16Bits(v), h, `${v}`);
      assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
      const decoded: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x3c02, 1 + 2 ** -9], [0x0400, 2 ** -14], [0x7c00, Infinity], [0xfc00, -Infinity]];
      for (const [h, v] of decoded) assert.equal(float16BitsToFloat32(h), v, `0x${h.toString(16)}`);
    });

    it('our float16 and bfloat16 rounding equals torch\'s (dtypes fixture)', function () {
      if (!expected) this.skip();
      const f32 = (expected.dtypes.f32!.values as number[]).map(Math.fround);
      assert.deepEqual(f32.map(float32ToFloat16Bits), expected.dtypes.f16!.values);
      assert.deepEqual(f32.map(float32ToBFloat16Bits), expected.dtypes.bf16!.values);
      assert.equal(bfloat16BitsToFloat32(0x3f80), 1);
      const t = tensorFromArray('h', DataType.FLOAT16, [f32.length], f32);
      assert.deepEqual(Array.from(tensorToArray(t) as Uint16Array), expected.dtypes.f16!.values);
    });
  });

  describe('tensors', () => {
    it('every numeric element type round-trips through rawData, and typed *_data fields are read', () => {
      const cases: [keyof typeof DataType, number[] | bigint[], string][] = [
        ['FLOAT', [1.5, -2, 0], 'Float32Array'], ['DOUBLE', [1e300, -1], 'Float64Array'], ['INT8', [-128, 127], 'Int8Array'],
        ['UINT8', [0, 255], 'Uint8Array'], ['INT16', [-32768, 7], 'Int16Array'], ['UINT16', [65535], 'Uint16Array'],
        ['INT32', [-2147483648, 5], 'Int32Array'], ['UINT32', [4294967295, 0], 'Uint32Array'], ['BOOL', [1, 0, 1], 'Uint8Array'],
        ['INT64', [-5n, 2n ** 62n], 'BigInt64Array'], ['UINT64', [2n ** 64n - 1n], 'BigUint64Array'],
      ];
      for (const [type, vals, ctor] of cases) {
        const t = tensorFromArray(type.toLowerCase(), DataType[type], [vals.length], vals);
        const a = tensorToArray(t) as Float32Array;
        assert.equal(a.constructor.name, ctor, type);
        assert.deepEqual(Array.from(a), vals, type);
        assert.equal(t.rawData!.length, (vals.length * ELEMENT_TYPES[type].bits) / 8);
      }
      assert.deepEqual(Array.from(tensorToArray({ dataType: DataType.FLOAT, dims: [2], floatData: [1, 2] }) as Float32Array), [1, 2]);
      assert.deepEqual(Array.from(tensorToArray({ dataType: DataType.INT64, dims: [2], int64Data: [3, 2n ** 60n] }) as BigInt64Array), [3n, 2n ** 60n]);
      assert.deepEqual(Array.from(tensorToArray({ dataType: DataType.UINT8, dims: [2], int32Data: [7, 250] }) as Uint8Array), [7, 250]);
      assert.deepEqual(Array.from(tensorToArray({ dataType: DataType.DOUBLE, dims: [], doubleData: [0.1] }) as Float64Array), [0.1]);
      assert.deepEqual(tensorToArray({ dataType: DataType.STRING, dims: [1], stringData: [new TextEncoder().encode('héllo')] }), ['héllo']);
      assert.throws(() => tensorToArray({ name: 'f', dataType: DataType.FLOAT, dims: [3], floatData: [1] }), /tensor 'f': floatData has 1 values, expected 3/);
    });

    it('rawData of a decoded tensor is a view into the model bytes', () => {
      const bytes = encodeModel(addModel());
      const t = decodeModel(bytes).graph!.initializer![0]! as TensorProto;
      assert.equal(t.rawData!.buffer, bytes.buffer);
      assert.deepEqual(Array.from(tensorToArray(t) as Float32Array), [1, 2, 3, 4, 5, 6]);
    });
  });

  describe('builders + onnxruntime', () => {
    it('an Add graph built here gives x + c in onnxruntime-node', async () => {
      const x = Float32Array.from([0.5, -1, 2, 10, 0, -3]);
      const out = await runOrt(addModel(), { x: new ort.Tensor('float32', x, [2, 3]) });
      assert.deepEqual(Array.from(out.y!.data as Float32Array), [1.5, 1, 5, 14, 5, 3]);
    });

    it('MatMulInteger (uint8 × int8 with zero points) gives the exact int32 products', async () => {
      const a = [10, 20, 30, 40, 50, 60]; // 2×3 uint8, zero point 10
      const b = [1, -2, 3, -4, 5, -6]; // 3×2 int8, zero point 0
      const g = makeGraph([makeNode('MatMulInteger', ['a', 'b', 'az'], ['y'], {}, 'mmi')], 'mmi',
        [makeValueInfo('a', DataType.UINT8, ['M', 3])], [makeValueInfo('y', DataType.INT32, ['M', 2])],
        [tensorFromArray('b', DataType.INT8, [3, 2], b), tensorFromArray('az', DataType.UINT8, [], [10])]);
      const out = await runOrt(makeModel(g), { a: new ort.Tensor('uint8', Uint8Array.from(a), [2, 3]) });
      const ref: number[] = [];
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) { let s = 0; for (let k = 0; k < 3; k++) s += (a[i * 3 + k]! - 10) * b[k * 2 + j]!; ref.push(s); }
      assert.deepEqual(Array.from(out.y!.data as Int32Array), ref);
    });

    it('attributes: ints vs floats by rule and by wrapper; LeakyRelu alpha {f: 1} is a float', async () => {
      assert.equal(makeAttribute('a', 1).type, AttributeType.INT);
      assert.equal(makeAttribute('a', 0.5).type, AttributeType.FLOAT);
      assert.equal(makeAttribute('a', { f: 1 }).type, AttributeType.FLOAT);
      assert.equal(makeAttribute('a', { i: 2n ** 60n }).type, AttributeType.INT);
      assert.equal(makeAttribute('a', [1, 2]).type, AttributeType.INTS);
      assert.equal(makeAttribute('a', [1, 2.5]).type, AttributeType.FLOATS);
      assert.equal(makeAttribute('a', { floats: [1, 2] }).type, AttributeType.FLOATS);
      assert.equal(makeAttribute('a', new Float32Array([1])).type, AttributeType.FLOATS);
      assert.equal(makeAttribute('a', 'NOTSET').type, AttributeType.STRING);
      assert.equal(makeAttribute('a', ['x', 'y']).type, AttributeType.STRINGS);
      assert.equal(makeAttribute('a', tensorFromArray('t', DataType.FLOAT, [1], [1])).type, AttributeType.TENSOR);
      assert.throws(() => makeAttribute('a', { nope: 1 } as never), /for attribute a but received a value of type object/);
      const g = makeGraph([makeNode('LeakyRelu', ['x'], ['y'], { alpha: { f: 1 } })], 'lr',
        [makeValueInfo('x', DataType.FLOAT, [3])], [makeValueInfo('y', DataType.FLOAT, [3])]);
      const out = await runOrt(makeModel(g), { x: new ort.Tensor('float32', Float32Array.from([-2, 0, 3]), [3]) });
      assert.deepEqual(Array.from(out.y!.data as Float32Array), [-2, 0, 3]);
    });

    it('makeModel picks the IR version of the opset; writeModel/readModel round-trip a file', () => {
      assert.equal(makeModel(makeGraph([], 'g', [], []), { opsetImports: [{ domain: '', version: 21 }] }).irVersion, 10);
      assert.equal(makeModel(makeGraph([], 'g', [], [])).irVersion, 7);
      mkdirSync(SCRATCH, { recursive: true });
      const p = join(SCRATCH, 'add.onnx');
      writeModel(p, addModel());
      assert.deepEqual(readModel(p).graph!.node![0]!.opType, 'Add');
      assert.deepEqual(valueInfoShape(makeValueInfo('x', DataType.FLOAT, ['N', 3])), ['N', 3]);
    });
  });

  describe('corrupt input: a QrobustError naming the file, never a crash or hang', () => {
    const rejects = (bytes: Uint8Array, re: RegExp): void => {
      assert.throws(() => decodeModel(bytes, 'bad.onnx'), (e: unknown) => e instanceof QrobustError && !(e instanceof UsageError) && /^bad\.onnx: not a valid ONNX model: /.test(e.message) && re.test(e.message) && !e.message.includes('\n'));
    };

    it('truncated torch model', function () {
      if (!expected) this.skip();
      const bytes = readFileSync(join(TORCH_DIR, 'resnet18.onnx'));
      for (const n of [1, 20, 1000, 123457, bytes.length - 1]) rejects(bytes.subarray(0, n), /protobuf decoding failed|index out of range/);
    });

    it('empty input, text, and a ModelProto without ir_version', () => {
      rejects(new Uint8Array(0), /no ir_version/);
      rejects(new TextEncoder().encode('this is not an onnx file at all\n'), /./);
      rejects(new Uint8Array([0x12, 0x01, 0x41]), /no ir_version/);
    });

    it('wrong wire types name the field', () => {
      rejects(new Uint8Array([0x08, 0x07, 0x38, 0x01]), /model\.graph \(field 7 of ModelProto\) has protobuf wire type 0, expected 2/);
      rejects(new Uint8Array([0x0a, 0x01, 0x00]), /model\.irVersion \(field 1 of ModelProto\) has protobuf wire type 2, expected 0/);
      const node = [...varint((4 << 3) | 0), 1]; // op_type as a varint
      rejects(new Uint8Array([0x08, 0x07, ...lenField(7, lenField(1, node))]), /model\.graph\.node\[0\]\.opType \(field 4 of NodeProto\) has protobuf wire type 0, expected 2/);
      rejects(new Uint8Array([0x08, 0x07, 0x0f]), /invalid wire type 7/);
      const attr = [...lenField(1, [0x61]), ...varint((20 << 3) | 0), 99]; // AttributeProto.type = 99
      rejects(new Uint8Array([0x08, 0x07, ...lenField(7, lenField(1, lenField(5, attr)))]), /model\.graph\.node\[0\]\.attribute\[0\]\.type \(field 20 of AttributeProto\) has a value outside its enum/);
    });

    it('graphs nested 200 deep (attribute → graph → node) fail cleanly', () => {
      let graph: number[] = [];
      for (let d = 0; d < 200; d++) graph = lenField(1, lenField(5, lenField(6, graph))); // graph.node.attribute.g
      rejects(new Uint8Array([0x08, 0x07, ...lenField(7, graph)]), /max depth/);
    });

    it('random bytes: decoded or rejected, never anything else', () => {
      const rng = new Rng(20261124);
      let rejected = 0;
      for (let k = 0; k < 300; k++) {
        const b = new Uint8Array(1 + Math.floor(rng.uniform() * 2048));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng.uniform() * 256);
        try {
          decodeModel(b, 'random.onnx');
        } catch (e) {
          assert.ok(e instanceof QrobustError && e.message.startsWith('random.onnx: '), String(e));
          rejected++;
        }
      }
      assert.ok(rejected >= 290, `only ${rejected} of 300 random inputs rejected`);
    });

    it('a missing file is a UsageError naming it', () => {
      mkdirSync(SCRATCH, { recursive: true });
      assert.throws(() => readModel('/nonexistent/x.onnx'), (e: unknown) => e instanceof UsageError && e.message.includes('/nonexistent/x.onnx'));
      writeFileSync(join(SCRATCH, 'empty.onnx'), new Uint8Array(0));
      assert.throws(() => readModel(join(SCRATCH, 'empty.onnx')), /empty\.onnx: not a valid ONNX model: no ir_version/);
    });
  });
});
