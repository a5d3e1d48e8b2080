/**
 * Our descriptor against an independent implementation: a model that uses every message and (IR 8) field we
 * define is encoded here, parsed by the onnx Python package (protobuf C++), and
 *  - re-serialized by it to the same bytes (field order, packing and presence agree), and
 *  - printed with json_format.MessageToDict, which names fields by the specification's (camelCase) names and
 *    drops unknown fields, and compared with protobufjs' toObject of our decoding.
 * A wrong field number, type or packing shows up as a difference in one of the two.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { AttributeType, DataLocation, DataType, ONNX_DESCRIPTOR, decodeModel, encodeModel, makeGraph, makeNode, makeValueInfo, tensorFromArray } from '../../../ts/formats/onnx.ts';
import type { GraphProto, OnnxModel, TensorProto, TypeProto } from '../../../ts/formats/onnx.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { PYTHON } from './fixtures.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function everything(): OnnxModel {
  const small = makeGraph([makeNode('Identity', ['a'], ['b'])], 'sub', [makeValueInfo('a', DataType.FLOAT, [1])], [makeValueInfo('b', DataType.FLOAT, [1])]);
  const t: TensorProto = tensorFromArray('t', DataType.FLOAT, [2], [0.5, -2.25]);
  const typed: TensorProto[] = [
    { dims: [2], dataType: DataType.FLOAT, floatData: [1.5, -3], name: 'f', docString: 'floats' },
    { dims: [3], dataType: DataType.INT32, int32Data: [-1, 0, 7], name: 'i32' },
    { dims: [1], dataType: DataType.STRING, stringData: [enc('héllo')], name: 's' },
    { dims: [2], dataType: DataType.INT64, int64Data: [-5, 1099511627776], name: 'i64' },
    { dims: [1], dataType: DataType.DOUBLE, doubleData: [0.125], name: 'd' },
    { dims: [2], dataType: DataType.UINT64, uint64Data: [3, 4294967296], name: 'u64' },
    { dims: [4], dataType: DataType.FLOAT, name: 'seg', segment: { begin: 0, end: 4 }, rawData: new Uint8Array(16) },
    {
      dims: [8], dataType: DataType.FLOAT, name: 'ext', dataLocation: DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '32' }],
    },
  ];
  const sparse = { values: tensorFromArray('sv', DataType.FLOAT, [2], [1, 2]), indices: tensorFromArray('si', DataType.INT64, [2], [0, 5]), dims: [10] };
  const tensorType = (e: number): TypeProto => ({ tensorType: { elemType: e, shape: { dim: [{ dimValue: 2 }, { dimParam: 'N', denotation: 'DATA_BATCH' }, {}] } }, denotation: 'TENSOR' });
  const node = makeNode('Custom', ['x', ''], ['y'], {}, 'n0', 'com.example');
  node.docString = 'every attribute type';
  node.attribute = [
    { name: 'f', type: AttributeType.FLOAT, f: 0.5, docString: 'a float' },
    { name: 'i', type: AttributeType.INT, i: -3 },
    { name: 's', type: AttributeType.STRING, s: enc('str') },
    { name: 't', type: AttributeType.TENSOR, t },
    { name: 'g', type: AttributeType.GRAPH, g: small },
    { name: 'floats', type: AttributeType.FLOATS, floats: [1, 2.5] },
    { name: 'ints', type: AttributeType.INTS, ints: [1, -2, 3] },
    { name: 'strings', type: AttributeType.STRINGS, strings: [enc('a'), enc('b')] },
    { name: 'tensors', type: AttributeType.TENSORS, tensors: [t, t] },
    { name: 'graphs', type: AttributeType.GRAPHS, graphs: [small] },
    { name: 'sp', type: AttributeType.SPARSE_TENSOR, sparseTensor: sparse },
    { name: 'sps', type: AttributeType.SPARSE_TENSORS, sparseTensors: [sparse] },
    { name: 'tp', type: AttributeType.TYPE_PROTO, tp: tensorType(DataType.INT8) },
    { name: 'tps', type: AttributeType.TYPE_PROTOS, typeProtos: [tensorType(DataType.UINT8)] },
  ];
  const graph: GraphProto = makeGraph([node], 'everything', [makeValueInfo('x', DataType.FLOAT, ['N', 3])], [
    { name: 'y', type: { sequenceType: { elemType: tensorType(DataType.FLOAT) } }, docString: 'a sequence' },
    { name: 'm', type: { mapType: { keyType: DataType.INT64, valueType: { optionalType: { elemType: tensorType(DataType.DOUBLE) } } } } },
    { name: 'sp', type: { sparseTensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 10 }] } } } },
    { name: 'o', type: { opaqueType: { domain: 'com.example', name: 'Blob' } } },
  ], [t, ...typed], [{ name: 'vi', type: tensorType(DataType.BFLOAT16) }]);
  graph.sparseInitializer = [sparse];
  graph.docString = 'graph doc';
  graph.quantizationAnnotation = [{ tensorName: 'x', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 'x_scale' }] }];
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.example', version: 1 }],
    producerName: 'qrobust',
    producerVersion: '0.1.0',
    domain: 'ai.qrobust.test',
    modelVersion: 3,
    docString: 'model doc',
    graph,
    metadataProps: [{ key: 'k', value: 'v' }],
    trainingInfo: [{ initialization: small, algorithm: small, initializationBinding: [{ key: 'a', value: 'b' }], updateBinding: [{ key: 'c', value: 'd' }] }],
    functions: [{
      name: 'MyFn', input: ['x'], output: ['y'], attribute: ['alpha'], docString: 'fn', domain: 'com.example',
      node: [{ input: ['x'], output: ['y'], opType: 'LeakyRelu', attribute: [{ name: 'alpha', type: AttributeType.FLOAT, refAttrName: 'alpha' }] }],
      opsetImport: [{ domain: '', version: 17 }],
    }],
  };
}

const PY = `
import json, sys
import onnx
from google.protobuf import json_format
data = open(sys.argv[1], 'rb').read()
m = onnx.ModelProto()
m.ParseFromString(data)
print(json.dumps({"same": m.SerializeToString() == data, "dict": json_format.MessageToDict(m)}))
`;

describe('formats: onnx descriptor vs the onnx Python package', function () {
  let ok = false;
  before(function () {
    this.timeout(120000);
    ok = spawnSync(PYTHON, ['-c', 'import onnx'], { timeout: 60000 }).status === 0;
    if (!ok) console.warn(`    skipping: ${PYTHON} has no onnx module (apt: python3-onnx)`);
  });

  it('protobuf C++ parses our encoding of every message and field, re-serializes it to the same bytes, and reads the same values', function () {
    if (!ok) this.skip();
    this.timeout(120000);
    const bytes = encodeModel(everything());
    const dir = join(repoRoot, 'test', '.generated', 'formats');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'everything.onnx');
    writeFileSync(file, bytes);
    const r = spawnSync(PYTHON, ['-c', PY, file], { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    const py = JSON.parse(r.stdout) as { same: boolean; dict: unknown };
    assert.equal(py.same, true, 'onnx re-serialized our bytes differently');

    const root = protobuf.Root.fromJSON(ONNX_DESCRIPTOR);
    const Model = root.lookupType('onnx.ModelProto');
    const ours = Model.toObject(decodeModel(bytes) as protobuf.Message, { longs: String, enums: String, bytes: String });
    assert.deepEqual(ours, py.dict);
    // and the round trip on our side
    assert.ok(Buffer.from(encodeModel(decodeModel(bytes))).equals(Buffer.from(bytes)));
  });
});
