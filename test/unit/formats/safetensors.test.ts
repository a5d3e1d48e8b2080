import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SAFETENSORS_DTYPES, decodeSafetensors, encodeSafetensors, readSafetensors, safetensorArray, safetensorFromArray, writeSafetensors,
} from '../../../ts/formats/safetensors.ts';
import type { SafetensorsFile } from '../../../ts/formats/safetensors.ts';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { TORCH_DIR, torchFixtures } from './fixtures.ts';
import type { Expected } from './fixtures.ts';

const SCRATCH = join(repoRoot, 'test', '.generated', 'formats');

/** A file from a header text (padded to 8 unless `pad` is false) and `dataLen` bytes 0, 1, 2, ... */
function fileOf(header: string, dataLen: number, pad = true): Uint8Array {
  let h = Buffer.from(header, 'utf8');
  if (pad && h.length % 8) h = Buffer.concat([h, Buffer.alloc(8 - (h.length % 8), 0x20)]);
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  for (let i = 0; i < dataLen; i++) out[8 + h.length + i] = i & 255;
  return out;
}

const entry = (dtype: string, shape: number[], b: number, e: number): string => `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${b},${e}]}`;

describe('formats: safetensors', function () {
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

  describe('torch state_dicts', () => {
    for (const arch of ['resnet18', 'mobilenet_v2'] as const) {
      it(`${arch}: encode(decode(bytes)) is byte-identical`, function () {
        if (!expected) this.skip();
        const bytes = readFileSync(join(TORCH_DIR, `${arch}.safetensors`));
        const t0 = performance.now();
        const f = decodeSafetensors(bytes, `${arch}.safetensors`);
        const t1 = performance.now();
        const again = encodeSafetensors(f);
        const t2 = performance.now();
        assert.ok(Buffer.from(again.buffer, again.byteOffset, again.length).equals(bytes), 'bytes differ');
        console.log(`      ${arch}.safetensors ${(bytes.length / 1e6).toFixed(1)} MB: decode ${(t1 - t0).toFixed(0)} ms, encode ${(t2 - t1).toFixed(0)} ms`);
      });

      it(`${arch}: tensors, metadata and values match the state_dict`, function () {
        if (!expected) this.skip();
        const e = expected.models[arch].state_dict;
        const bytes = readFileSync(join(TORCH_DIR, `${arch}.safetensors`));
        const f = decodeSafetensors(bytes, arch);
        assert.equal(f.tensors.size, e.tensors);
        assert.deepEqual([...f.tensors.keys()].slice(0, 5), e.names_head);
        assert.deepEqual(Object.fromEntries(f.metadata!), { format: 'pt', arch, seed: '0' });
        let params = 0;
        for (const t of f.tensors.values()) params += t.shape.reduce((a, d) => a * d, 1);
        assert.equal(params, e.parameters);
        const probe = f.tensors.get(e.probe.name)!;
        assert.equal(probe.dtype, 'F32');
        assert.deepEqual(probe.shape, e.probe.shape);
        const vals = safetensorArray(probe) as Float32Array;
        assert.ok(vals instanceof Float32Array);
        assert.equal(vals.buffer, bytes.buffer, 'an aligned F32 tensor is a zero-copy view');
        assert.deepEqual(Array.from(vals.subarray(0, 8)), e.probe.first.map(Math.fround));
        let sum = 0;
        for (const v of vals) sum += v;
        assert.ok(Math.abs(sum - e.probe.sum) <= 1e-9 * Math.max(1, Math.abs(e.probe.sum)));
        for (const name of e.int64_scalars) {
          const t = f.tensors.get(name)!;
          assert.equal(t.dtype, 'I64');
          assert.deepEqual(t.shape, []);
          assert.deepEqual(Array.from(safetensorArray(t) as BigInt64Array), [0n]);
        }
      });
    }

    it('every dtype of the fixture decodes to torch\'s values, scalars and empty tensors included', function () {
      if (!expected) this.skip();
      const bytes = readFileSync(join(TORCH_DIR, 'dtypes.safetensors'));
      const f = decodeSafetensors(bytes, 'dtypes.safetensors');
      assert.ok(Buffer.from(encodeSafetensors(f)).equals(bytes));
      assert.deepEqual([...f.tensors.keys()], Object.keys(expected.dtypes));
      for (const [name, e] of Object.entries(expected.dtypes)) {
        const t = f.tensors.get(name)!;
        assert.equal(t.dtype, e.dtype, name);
        assert.deepEqual(t.shape, e.shape, name);
        const a = Array.from(safetensorArray(t) as Float64Array);
        const want = e.dtype === 'I64' ? e.values.map((v) => BigInt(v)) : e.dtype === 'F32' ? (e.values as number[]).map(Math.fround) : e.values;
        assert.deepEqual(a, want, name);
      }
    });
  });

  describe('layout and order', () => {
    it('keeps header order, buffer order, metadata position and integer-like names', () => {
      const w = (v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
      const f: SafetensorsFile = {
        metadata: new Map([['10', 'b'], ['2', 'a']]),
        tensors: new Map([
          ['10', { dtype: 'F32', shape: [1], data: w([1]) }],
          ['2', { dtype: 'F32', shape: [2], data: w([2, 3]) }],
          ['b', { dtype: 'I8', shape: [3], data: new Uint8Array([255, 1, 2]) }],
        ]),
        dataOrder: ['b', '2', '10'],
        metadataIndex: 2,
      };
      const bytes = encodeSafetensors(f);
      const text = Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toString();
      assert.match(text, /^\{"10":\{"dtype":"F32","shape":\[1\],"data_offsets":\[11,15\]\},"2":\{"dtype":"F32","shape":\[2\],"data_offsets":\[3,11\]\},"__metadata__":\{"10":"b","2":"a"\},"b":\{"dtype":"I8","shape":\[3\],"data_offsets":\[0,3\]\}\} *$/);
      assert.equal(text.length % 8, 0);
      const back = decodeSafetensors(bytes);
      assert.deepEqual([...back.tensors.keys()], ['10', '2', 'b']);
      assert.deepEqual(back.dataOrder, ['b', '2', '10']);
      assert.equal(back.metadataIndex, 2);
      assert.deepEqual([...back.metadata!.keys()], ['10', '2']);
      assert.ok(Buffer.from(encodeSafetensors(back)).equals(Buffer.from(bytes)));
      // 4-byte tensors at offsets 3 and 11 are misaligned: safetensorArray copies, with the right values
      assert.deepEqual(Array.from(safetensorArray(back.tensors.get('2')!) as Float32Array), [2, 3]);
      assert.deepEqual(Array.from(safetensorArray(back.tensors.get('b')!) as Int8Array), [-1, 1, 2]);
    });

    it('safetensorFromArray + writeSafetensors / readSafetensors; no metadata; all byte-sized dtypes', () => {
      mkdirSync(SCRATCH, { recursive: true });
      const p = join(SCRATCH, 'w.safetensors');
      const f: SafetensorsFile = {
        metadata: null,
        tensors: new Map([
          ['a', safetensorFromArray('I64', [2], new BigInt64Array([1n, -(2n ** 63n)]))],
          ['b', safetensorFromArray('F64', [1, 1], new Float64Array([0.1]))],
          ['c', safetensorFromArray('U16', [0], new Uint16Array(0))],
        ]),
      };
      writeSafetensors(p, f);
      const back = readSafetensors(p);
      assert.equal(back.metadata, null);
      assert.deepEqual(Array.from(safetensorArray(back.tensors.get('a')!) as BigInt64Array), [1n, -(2n ** 63n)]);
      assert.deepEqual(Array.from(safetensorArray(back.tensors.get('b')!) as Float64Array), [0.1]);
      assert.equal(safetensorArray(back.tensors.get('c')!).length, 0);
      assert.throws(() => safetensorFromArray('F32', [3], new Float32Array(2)), /Expected 12 bytes for a F32 tensor of shape \[3\] but received 8/);
      assert.throws(() => safetensorFromArray('F32', [1], new Int32Array(1) as never), UsageError);
      assert.throws(() => encodeSafetensors({ ...f, dataOrder: ['a', 'b'] }), /permutation of the 3 tensor names/);
      for (const [dt, info] of Object.entries(SAFETENSORS_DTYPES)) {
        const bytes = encodeSafetensors({ metadata: null, tensors: new Map([['x', { dtype: dt as keyof typeof SAFETENSORS_DTYPES, shape: [3], data: new Uint8Array(3 * info.bytes).fill(1) }]]) });
        assert.equal(safetensorArray(decodeSafetensors(bytes).tensors.get('x')!).byteLength, 3 * info.bytes, dt);
      }
    });
  });

  describe('corrupt input: a QrobustError naming the file and the problem', () => {
    const rejects = (bytes: Uint8Array, re: RegExp): void => {
      assert.throws(() => decodeSafetensors(bytes, 'bad.safetensors'), (e: unknown) => {
        assert.ok(e instanceof QrobustError && !(e instanceof UsageError), String(e));
        assert.match(e.message, /^bad\.safetensors: not a valid safetensors file: /);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    };

    it('too short, header length beyond EOF, absurd header length', () => {
      rejects(new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/);
      rejects(new Uint8Array(5), /5 bytes/);
      const b = fileOf('{}', 0);
      new DataView(b.buffer).setBigUint64(0, 1000n, true);
      rejects(b, /header length 1000 runs past the end of the file \(16 bytes\)/);
      new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
      rejects(b, /header length 18446744073709551615 runs past/);
    });

    it('truncated torch file', function () {
      if (!expected) this.skip();
      const bytes = readFileSync(join(TORCH_DIR, 'resnet18.safetensors'));
      rejects(bytes.subarray(0, 100), /runs past the end of the file/);
      rejects(bytes.subarray(0, bytes.length - 1), /beyond the \d+-byte buffer/);
    });

    it('bad JSON, bad UTF-8, not an object, duplicate keys', () => {
      rejects(fileOf('{"a":', 0, false), /header is not valid JSON \(unexpected end at byte 5\)/);
      rejects(fileOf('{"a":1,}', 0), /header is not valid JSON/);
      rejects(fileOf('[1,2,3]', 0), /header is not a JSON object/);
      const bad = fileOf('{"\u00e9":1}', 0);
      bad[10] = 0xff; // break the UTF-8 of é
      rejects(bad, /header is not valid UTF-8/);
      rejects(fileOf(`{"a":${entry('U8', [1], 0, 1)},"a":${entry('U8', [1], 1, 2)}}`, 2), /duplicate key "a"/);
    });

    it('entries: unknown dtype, bad shape, bad offsets, size mismatch, unknown keys, bad metadata', () => {
      rejects(fileOf(`{"w":${entry('F17', [1], 0, 4)}}`, 4), /tensor "w" has unknown dtype "F17"/);
      rejects(fileOf(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), /shape that is not an array of non-negative integers/);
      rejects(fileOf(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), /data_offsets that are not two non-negative integers/);
      rejects(fileOf(`{"w":${entry('F32', [1], 4, 0)}}`, 4), /begin after end/);
      rejects(fileOf(`{"w":${entry('F32', [2], 0, 8)}}`, 4), /data_offsets \[0, 8\] beyond the 4-byte buffer/);
      rejects(fileOf(`{"w":${entry('F32', [2], 0, 4)}}`, 4), /tensor "w" has 4 bytes but shape \[2\] of F32 needs 8/);
      rejects(fileOf(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), /unknown key "x"/);
      rejects(fileOf(`{"__metadata__":{"a":1},"w":${entry('U8', [1], 0, 1)}}`, 1), /__metadata__\.a is not a string/);
      rejects(fileOf(`{"w":3}`, 0), /tensor "w" is not an object/);
    });

    it('coverage: overlapping offsets, gaps, trailing bytes', () => {
      rejects(fileOf(`{"a":${entry('U8', [4], 0, 4)},"b":${entry('U8', [4], 2, 6)}}`, 6), /tensors "a" \[0, 4\] and "b" \[2, 6\] overlap/);
      rejects(fileOf(`{"a":${entry('U8', [4], 0, 4)},"b":${entry('U8', [4], 3, 7)}}`, 7), /tensors "a" \[0, 4\] and "b" \[3, 7\] overlap/);
      rejects(fileOf(`{"a":${entry('U8', [4], 0, 4)},"b":${entry('U8', [4], 0, 4)}}`, 4), /overlap/);
      rejects(fileOf(`{"a":${entry('U8', [2], 0, 2)},"b":${entry('U8', [2], 4, 6)}}`, 6), /bytes 2\.\.4 of the buffer belong to no tensor/);
      rejects(fileOf(`{"a":${entry('U8', [2], 0, 2)}}`, 5), /the buffer has 3 bytes after the last tensor/);
      // zero-size tensors may share an offset
      const ok = decodeSafetensors(fileOf(`{"e":${entry('F32', [0], 2, 2)},"a":${entry('U8', [2], 0, 2)},"z":${entry('F32', [0, 3], 2, 2)}}`, 2));
      assert.deepEqual(ok.dataOrder, ['a', 'e', 'z']);
    });

    it('random bytes and random headers are rejected, never a crash or hang', () => {
      const rng = new Rng(7);
      for (let k = 0; k < 300; k++) {
        const n = 1 + Math.floor(rng.uniform() * 512);
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = Math.floor(rng.uniform() * 256);
        if (k % 2 && n >= 8) new DataView(b.buffer).setBigUint64(0, BigInt(Math.floor(rng.uniform() * (n - 8))), true);
        assert.throws(() => decodeSafetensors(b, 'bad.safetensors'), (e: unknown) => e instanceof QrobustError && e.message.startsWith('bad.safetensors: '));
      }
    });

    it('a missing file is a UsageError naming it', () => {
      assert.throws(() => readSafetensors('/nonexistent/w.safetensors'), (e: unknown) => e instanceof UsageError && e.message.includes('/nonexistent/w.safetensors'));
    });
  });
});
