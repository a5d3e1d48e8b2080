/**
 * Our own protobufjs JSON descriptor of the ONNX IR (ModelProto and everything it contains), written from
 * the ONNX specification (docs/IR.md and the field numbers it fixes). The syntax is proto2: every singular
 * field has explicit presence, and repeated scalars are *expanded* (one tag per value) except the five
 * TensorProto data arrays that the specification marks `[packed = true]` (`float_data`, `int32_data`,
 * `int64_data`, `double_data`, `uint64_data`). Getting that distinction right is what makes
 * `encode(decode(bytes))` byte-identical for files written by protobuf C++ (torch, onnx).
 *
 * Field names are the specification's names in camelCase (`op_type` → `opType`, `raw_data` → `rawData`),
 * as protobufjs-generated ONNX code in JavaScript spells them. See docs/formats.md.
 *
 * Fields the specification added after IR 10 that we do not model (device configurations) are not lost:
 * the decoder keeps unknown fields and the encoder writes them back.
 */
import type { INamespace } from 'protobufjs';

/**
 * ONNX tensor element types (`TensorProto.DataType`), name → wire value. The single source of truth:
 * the descriptor's enum and the element-type table in onnx.ts are built from it.
 * @example
 * DataType.INT4 // => 22
 */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const satisfies Record<string, number>;

/** A tensor element type name (`'FLOAT'`, `'INT4'`, ...). */
export type DataTypeName = keyof typeof DataType;

/** `AttributeProto.AttributeType`, name → wire value. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const satisfies Record<string, number>;

/** `TensorProto.DataLocation`. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const satisfies Record<string, number>;

// Small constructors keep the table below readable: one line per field, number and wire semantics explicit.
type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const one = (type: string, id: number): FieldJson => ({ type, id });
const many = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });
const packed = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated', options: { packed: true } });

const SSE = 'StringStringEntryProto';

const MESSAGES: Record<string, object> = {
  StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },

  OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },

  TensorAnnotation: {
    fields: { tensorName: one('string', 1), quantParameterTensorNames: many(SSE, 2) },
  },

  AttributeProto: {
    fields: {
      name: one('string', 1),
      f: one('float', 2),
      i: one('int64', 3),
      s: one('bytes', 4),
      t: one('TensorProto', 5),
      g: one('GraphProto', 6),
      floats: many('float', 7),
      ints: many('int64', 8),
      strings: many('bytes', 9),
      tensors: many('TensorProto', 10),
      graphs: many('GraphProto', 11),
      docString: one('string', 13),
      tp: one('TypeProto', 14),
      typeProtos: many('TypeProto', 15),
      type: one('AttributeType', 20),
      refAttrName: one('string', 21),
      sparseTensor: one('SparseTensorProto', 22),
      sparseTensors: many('SparseTensorProto', 23),
    },
    nested: { AttributeType: { values: { ...AttributeType } } },
  },

  ValueInfoProto: {
    fields: { name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3), metadataProps: many(SSE, 4) },
  },

  NodeProto: {
    fields: {
      input: many('string', 1),
      output: many('string', 2),
      name: one('string', 3),
      opType: one('string', 4),
      attribute: many('AttributeProto', 5),
      docString: one('string', 6),
      domain: one('string', 7),
      overload: one('string', 8),
      metadataProps: many(SSE, 9),
    },
  },

  TrainingInfoProto: {
    fields: {
      initialization: one('GraphProto', 1),
      algorithm: one('GraphProto', 2),
      initializationBinding: many(SSE, 3),
      updateBinding: many(SSE, 4),
    },
  },

  ModelProto: {
    fields: {
      irVersion: one('int64', 1),
      producerName: one('string', 2),
      producerVersion: one('string', 3),
      domain: one('string', 4),
      modelVersion: one('int64', 5),
      docString: one('string', 6),
      graph: one('GraphProto', 7),
      opsetImport: many('OperatorSetIdProto', 8),
      metadataProps: many(SSE, 14),
      trainingInfo: many('TrainingInfoProto', 20),
      functions: many('FunctionProto', 25),
    },
  },

  GraphProto: {
    fields: {
      node: many('NodeProto', 1),
      name: one('string', 2),
      initializer: many('TensorProto', 5),
      docString: one('string', 10),
      input: many('ValueInfoProto', 11),
      output: many('ValueInfoProto', 12),
      valueInfo: many('ValueInfoProto', 13),
      quantizationAnnotation: many('TensorAnnotation', 14),
      sparseInitializer: many('SparseTensorProto', 15),
      metadataProps: many(SSE, 16),
    },
    // 3, 4 and 6..9 once held model-level fields and must never be reused.
    reserved: [[3, 4], [6, 9]],
  },

  TensorProto: {
    fields: {
      dims: many('int64', 1),
      dataType: one('int32', 2),
      segment: one('Segment', 3),
      floatData: packed('float', 4),
      int32Data: packed('int32', 5),
      stringData: many('bytes', 6),
      int64Data: packed('int64', 7),
      name: one('string', 8),
      rawData: one('bytes', 9),
      doubleData: packed('double', 10),
      uint64Data: packed('uint64', 11),
      docString: one('string', 12),
      externalData: many(SSE, 13),
      dataLocation: one('DataLocation', 14),
      metadataProps: many(SSE, 16),
    },
    nested: {
      DataType: { values: { ...DataType } },
      Segment: { fields: { begin: one('int64', 1), end: one('int64', 2) } },
      DataLocation: { values: { ...DataLocation } },
    },
  },

  SparseTensorProto: {
    fields: { values: one('TensorProto', 1), indices: one('TensorProto', 2), dims: many('int64', 3) },
  },

  TensorShapeProto: {
    fields: { dim: many('Dimension', 1) },
    nested: {
      Dimension: {
        oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
        fields: { dimValue: one('int64', 1), dimParam: one('string', 2), denotation: one('string', 3) },
      },
    },
  },

  TypeProto: {
    oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType', 'opaqueType'] } },
    fields: {
      tensorType: one('Tensor', 1),
      sequenceType: one('Sequence', 4),
      mapType: one('Map', 5),
      denotation: one('string', 6),
      opaqueType: one('Opaque', 7),
      sparseTensorType: one('SparseTensor', 8),
      optionalType: one('Optional', 9),
    },
    nested: {
      Tensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
      Sequence: { fields: { elemType: one('TypeProto', 1) } },
      Map: { fields: { keyType: one('int32', 1), valueType: one('TypeProto', 2) } },
      Optional: { fields: { elemType: one('TypeProto', 1) } },
      SparseTensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
      Opaque: { fields: { domain: one('string', 1), name: one('string', 2) } },
    },
  },

  FunctionProto: {
    fields: {
      name: one('string', 1),
      input: many('string', 4),
      output: many('string', 5),
      attribute: many('string', 6),
      node: many('NodeProto', 7),
      docString: one('string', 8),
      opsetImport: many('OperatorSetIdProto', 9),
      domain: one('string', 10),
      attributeProto: many('AttributeProto', 11),
      valueInfo: many('ValueInfoProto', 12),
      overload: one('string', 13),
      metadataProps: many(SSE, 14),
    },
    // 2 (since_version) and 3 (status) were removed from the IR.
    reserved: [[2, 3]],
  },
};

/**
 * The descriptor handed to `protobuf.Root.fromJSON`; package `onnx`. Every top-level message says
 * `edition: 'proto2'` (protobufjs otherwise treats JSON-loaded messages as proto3, which packs every
 * repeated scalar and drops presence); nested messages and enums inherit it.
 */
export const ONNX_DESCRIPTOR: INamespace = {
  nested: {
    onnx: {
      nested: Object.fromEntries(Object.entries(MESSAGES).map(([k, v]) => [k, { ...v, edition: 'proto2' }])),
    },
  },
} as INamespace;
