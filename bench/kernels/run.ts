/**
 * bench:kernels: our fast integer kernels vs onnxruntime-node (CPU EP, MLAS) on the same shapes and threads
 * (issue 5). Rows: int8 GEMM (QLinearMatMul, u8 activations x s8 weights, per-tensor, ort-mlas requant) at
 * 1024^3 and 256x2048x2048 on 1 and 2 threads; the ResNet18 conv layers at 224 from bench/shapes/resnet18-conv.csv
 * (QLinearConv, per-channel weight scales); batch-1 GEMV 4096x4096: int8 (QLinearMatMul M=1), int4 and int2 against
 * our own int8 GEMV (the memory-traffic claim) and int4 against ORT MatMulNBits (com.microsoft, accuracy level 4).
 *
 * Every row validates first: our output bytes must equal ORT's bytes exactly (both compute the ort-mlas
 * requantization). Then both warm up and run interleaved (ours, ORT, ours, ...) so that load changes on a
 * shared machine hit both sides alike; the medians of --reps runs (>= 5) are reported as GOPS (2*M*N*K).
 *
 *   npm run bench:kernels                      table
 *   npm run bench:kernels -- --json            one JSON array of rows {name, shape, threads, ours_gops, peer, peer_gops, ratio}
 *   options: --reps N (default 7; GEMM and GEMV rows take at least 15)  --threads 1,2  --only gemm|conv|gemv  --quick (fewer conv shapes)
 *            --pause MS (idle time before each timed call, default 20)
 *
 * The addon comes from $QROBUST_ADDON or build/Release (ts/native/binding.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray } from '../../ts/formats/onnx.ts';
import type { NodeProto, TensorProto } from '../../ts/formats/onnx.ts';
import { native, repoRoot } from '../../ts/native/binding.ts';
import { QrobustError, UsageError } from '../../ts/util/errors.ts';
import { parseIntFlag } from '../../ts/util/is.ts';
import { Rng } from '../../ts/util/rng.ts';

interface Row {
  name: string;
  shape: string;
  threads: number;
  ours_gops: number;
  peer: string;
  peer_gops: number;
  ratio: number;
  /** best (minimum-time) run of each side: the quiet-machine view on a shared box */
  ours_best_gops?: number;
  peer_best_gops?: number;
}

interface Args { json: boolean; reps: number; threads: number[]; only: string | null; quick: boolean; pauseMs: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, reps: 7, threads: [1, 2], only: null, quick: false, pauseMs: 20 };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    if (f === '--json') a.json = true;
    else if (f === '--quick') a.quick = true;
    else if (f === '--reps') a.reps = parseIntFlag('--reps', argv[++i] ?? '', 5, 1000);
    else if (f === '--pause') pauseMs = a.pauseMs = parseIntFlag('--pause', argv[++i] ?? '', 0, 10000);
    else if (f === '--threads') a.threads = (argv[++i] ?? '').split(',').map((s) => parseIntFlag('--threads', s, 1, 64));
    else if (f === '--only') {
      const v = argv[++i] ?? '';
      if (!['gemm', 'conv', 'gemv'].includes(v)) throw new UsageError(`Expected gemm, conv or gemv for --only but received ${v}`);
      a.only = v;
    } else throw new UsageError(`Unknown option ${f}; expected --json, --reps N, --threads 1,2, --only gemm|conv|gemv, --quick, --pause MS`);
  }
  return a;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

function randBytes(rng: Rng, n: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = signed ? rng.int(256) - 128 : rng.int(256);
  return out;
}

async function session(nodes: NodeProto[], inputs: { name: string; dt: number; dims: number[] }[], output: { name: string; dt: number; dims: number[] },
  inits: TensorProto[], threads: number): Promise<ort.InferenceSession> {
  const g = makeGraph(nodes, 'bench', inputs.map((i) => makeValueInfo(i.name, i.dt, i.dims)), [makeValueInfo(output.name, output.dt, output.dims)], inits);
  const m = makeModel(g, { opsetImports: [{ domain: '', version: 13 }] });
  return ort.InferenceSession.create(encodeModel(m), {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let pauseMs = 20;

/**
 * Times ours (sync) and peer (async) interleaved; returns median seconds of each, then the minimum of each.
 * A pause (--pause, default 20 ms) precedes every timed call: ORT's pool spins for a while after a run, and on
 * two vCPUs its spinning worker would otherwise hold the second core during our next measurement (and ours, more
 * briefly, during ORT's).
 */
async function timeBoth(ours: () => void, peer: () => Promise<unknown>, reps: number): Promise<[number, number, number, number]> {
  for (let i = 0; i < 2; i++) {
    ours();
    await peer();
  }
  const to: number[] = [], tp: number[] = [];
  for (let r = 0; r < reps; r++) {
    await pause(pauseMs);
    let t0 = process.hrtime.bigint();
    ours();
    to.push(Number(process.hrtime.bigint() - t0) / 1e9);
    await pause(pauseMs);
    t0 = process.hrtime.bigint();
    await peer();
    tp.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return [median(to), median(tp), Math.min(...to), Math.min(...tp)];
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

// ---- int8 GEMM / GEMV via QLinearMatMul ----------------------------------------------------------
async function gemmRow(name: string, m: number, n: number, k: number, threads: number, reps: number, rng: Rng): Promise<Row> {
  const nat = native();
  const a = randBytes(rng, m * k, false) as Uint8Array;
  const w = randBytes(rng, n * k, true) as Int8Array;  // ours [n][k]
  const wt = new Int8Array(k * n);                       // ORT B [k][n]
  for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) wt[kk * n + j] = w[j * k + kk]!;
  const sa = 0.02, sb = 0.01, za = 127, zy = 128;
  const sy = Math.fround(sa * sb * Math.sqrt(k) * 74 * 74 / 40);
  const packed = nat.intqFastPackGemm(w, { n, k });
  const out = new Uint8Array(m * n);
  const opts = { m, aZeroPoint: za, threads, variant: 'ort-mlas', sx: sa, sw: new Float32Array([sb]), sy, zeroPoint: zy, qmin: 0, qmax: 255 };
  const s = await session(
    [makeNode('QLinearMatMul', ['a', 'sa', 'za', 'b', 'sb', 'zb', 'sy', 'zy'], ['y'])],
    [{ name: 'a', dt: DataType.UINT8, dims: [m, k] }], { name: 'y', dt: DataType.UINT8, dims: [m, n] },
    [tensorFromArray('sa', DataType.FLOAT, [], [sa]), tensorFromArray('za', DataType.UINT8, [], [za]), tensorFromArray('b', DataType.INT8, [k, n], wt),
      tensorFromArray('sb', DataType.FLOAT, [], [sb]), tensorFromArray('zb', DataType.INT8, [], [0]), tensorFromArray('sy', DataType.FLOAT, [], [sy]),
      tensorFromArray('zy', DataType.UINT8, [], [zy])], threads);
  const feeds = { a: new ort.Tensor('uint8', a, [m, k]) };
  nat.intqFastGemm(packed, a, out, opts);
  const ref = (await s.run(feeds)).y!.data as Uint8Array;
  const d = firstDiff(out, ref);
  if (d >= 0) throw new QrobustError(`${name} ${m}x${n}x${k}: validation failed at ${d}: ours ${out[d]} ORT ${ref[d]}`);
  const [to, tp, bo, bp] = await timeBoth(() => nat.intqFastGemm(packed, a, out, opts), () => s.run(feeds), reps);
  await s.release();
  const ops = 2 * m * n * k;
  return { name, shape: `${m}x${n}x${k}`, threads, ours_gops: ops / to / 1e9, peer: 'onnxruntime-node QLinearMatMul', peer_gops: ops / tp / 1e9, ratio: tp / to, ours_best_gops: ops / bo / 1e9, peer_best_gops: ops / bp / 1e9 };
}

// ---- ResNet18 conv via QLinearConv -----------------------------------------------------------------
interface ConvShapeRow { name: string; count: number; c: number; h: number; w: number; oc: number; kh: number; kw: number; stride: number; pad: number; groups: number }

function readShapes(): ConvShapeRow[] {
  const text = readFileSync(join(repoRoot, 'bench', 'shapes', 'resnet18-conv.csv'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const head = lines[0]!.split(',');
  return lines.slice(1).map((l) => {
    const v = l.split(',');
    const o: Record<string, string> = {};
    head.forEach((h, i) => { o[h] = v[i]!; });
    const num = (key: string): number => parseIntFlag(`resnet18-conv.csv ${key}`, o[key] ?? '', 0);
    return { name: o.name!, count: num('count'), c: num('c'), h: num('h'), w: num('w'), oc: num('oc'), kh: num('kh'), kw: num('kw'), stride: num('stride'), pad: num('pad'), groups: num('groups') };
  });
}

async function convRow(sh: ConvShapeRow, threads: number, reps: number, rng: Rng): Promise<Row> {
  const nat = native();
  const { c, h, w, oc, kh, kw, stride, pad, groups } = sh;
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1, ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const cg = c / groups;
  const x = randBytes(rng, c * h * w, false) as Uint8Array;
  const wts = randBytes(rng, oc * cg * kh * kw, true) as Int8Array;
  const bias = new Int32Array(oc);
  for (let i = 0; i < oc; i++) bias[i] = rng.int(20001) - 10000;
  const sx = 0.02, zx = 120, zy = 128;
  const sw = new Float32Array(oc);
  for (let i = 0; i < oc; i++) sw[i] = Math.fround(0.005 + 0.01 * rng.uniform());
  const sy = Math.fround(sx * 0.01 * Math.sqrt(cg * kh * kw) * 74 * 74 / 40);
  const shape = { n: 1, c, h, w, oc, kh, kw, groups, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad };
  const packed = nat.intqFastPackConv(wts, shape);
  const out = new Uint8Array(oc * oh * ow);
  const opts = { ...shape, xZeroPoint: zx, bias, threads, variant: 'ort-mlas', sx, sw, sy, zeroPoint: zy, qmin: 0, qmax: 255 };
  const s = await session(
    [makeNode('QLinearConv', ['x', 'sx', 'zx', 'w', 'sw', 'zw', 'sy', 'zy', 'b'], ['y'],
      { kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad], group: groups })],
    [{ name: 'x', dt: DataType.UINT8, dims: [1, c, h, w] }], { name: 'y', dt: DataType.UINT8, dims: [1, oc, oh, ow] },
    [tensorFromArray('sx', DataType.FLOAT, [], [sx]), tensorFromArray('zx', DataType.UINT8, [], [zx]), tensorFromArray('w', DataType.INT8, [oc, cg, kh, kw], wts),
      tensorFromArray('sw', DataType.FLOAT, [oc], sw), tensorFromArray('zw', DataType.INT8, [oc], new Int8Array(oc)), tensorFromArray('sy', DataType.FLOAT, [], [sy]),
      tensorFromArray('zy', DataType.UINT8, [], [zy]), tensorFromArray('b', DataType.INT32, [oc], bias)], threads);
  const feeds = { x: new ort.Tensor('uint8', x, [1, c, h, w]) };
  nat.intqFastConv(packed, x, out, opts);
  const ref = (await s.run(feeds)).y!.data as Uint8Array;
  const d = firstDiff(out, ref);
  if (d >= 0) throw new QrobustError(`${sh.name}: validation failed at ${d}: ours ${out[d]} ORT ${ref[d]}`);
  const [to, tp, bo, bp] = await timeBoth(() => nat.intqFastConv(packed, x, out, opts), () => s.run(feeds), reps);
  await s.release();
  const ops = 2 * oh * ow * oc * cg * kh * kw;
  return { name: `resnet18 ${sh.name}`, shape: `${c}x${h}x${w}->${oc} k${kh} s${stride}`, threads, ours_gops: ops / to / 1e9, peer: 'onnxruntime-node QLinearConv', peer_gops: ops / tp / 1e9, ratio: tp / to, ours_best_gops: ops / bo / 1e9, peer_best_gops: ops / bp / 1e9 };
}

// ---- batch-1 GEMV: int8 / int4 / int2 ----------------------------------------------------------------
/** Median seconds of `reps` runs of a synchronous function after 2 warm-ups. */
function timeOne(f: () => void, reps: number): number {
  f();
  f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(ts);
}

async function gemvRows(n: number, k: number, threads: number, reps: number, rng: Rng): Promise<Row[]> {
  const nat = native();
  const x = randBytes(rng, k, false) as Uint8Array;
  const zx = 128;
  const shape = `1x${n}x${k}`;
  const ops = 2 * n * k;
  const timeOf = new Map<number, number>();
  let w4: Int8Array | null = null;
  for (const bits of [8, 4, 2] as const) {
    const lo = bits === 8 ? -128 : -(1 << (bits - 1)), span = 1 << bits;
    const vals = new Int8Array(n * k);
    for (let i = 0; i < vals.length; i++) vals[i] = lo + rng.int(span);
    if (bits === 4) w4 = vals;
    const weights = bits === 8 ? vals : packRowsSigned(vals, n, k, bits);
    const packed = nat.intqFastPackGemv(weights, { n, k, bits });
    const out = new Int32Array(n);
    const opts = { xZeroPoint: zx, threads };
    nat.intqFastGemv(packed, x, out, opts);
    const ref = new Int32Array(n);
    nat.intqGemm(x, weights, ref, { m: 1, n, k, aZeroPoint: zx, bits });
    const d = firstDiff(out, ref);
    if (d >= 0) throw new QrobustError(`gemv int${bits}: validation against the reference failed at ${d}: ours ${out[d]} ref ${ref[d]}`);
    timeOf.set(bits, timeOne(() => nat.intqFastGemv(packed, x, out, opts), reps));
  }
  const t8 = timeOf.get(8)!, t4 = timeOf.get(4)!, t2 = timeOf.get(2)!;
  const rows: Row[] = [
    { name: 'int4 gemv (batch 1)', shape, threads, ours_gops: ops / t4 / 1e9, peer: 'qrobust int8 gemv', peer_gops: ops / t8 / 1e9, ratio: t8 / t4 },
    { name: 'int2 gemv (batch 1)', shape, threads, ours_gops: ops / t2 / 1e9, peer: 'qrobust int8 gemv', peer_gops: ops / t8 / 1e9, ratio: t8 / t2 },
  ];
  // ORT MatMulNBits (com.microsoft, 4-bit blocks of 32, default zero point 8, accuracy_level 4 = int8 activations):
  // float in / float out, so it is validated against a float reference within 2% (its activation quantization differs).
  const wv = w4!;
  const block = 32, nb = k / block;
  const bq = new Uint8Array(n * nb * (block / 2));
  for (let r = 0; r < n; r++)
    for (let i = 0; i < k; i += 2) bq[r * (k / 2) + i / 2] = ((wv[r * k + i]! + 8) & 15) | (((wv[r * k + i + 1]! + 8) & 15) << 4);
  const scales = new Float32Array(n * nb).fill(0.01);
  const xf = Float32Array.from(x, (v) => (v - zx) * 0.02);
  const g = makeGraph([makeNode('MatMulNBits', ['a', 'b', 's'], ['y'], { K: k, N: n, bits: 4, block_size: block, accuracy_level: 4 }, 'mmnb', 'com.microsoft')],
    'gemv4', [makeValueInfo('a', DataType.FLOAT, [1, k])], [makeValueInfo('y', DataType.FLOAT, [1, n])],
    [tensorFromArray('b', DataType.UINT8, [n, nb, block / 2], bq), tensorFromArray('s', DataType.FLOAT, [n * nb], scales)]);
  const m = makeModel(g, { opsetImports: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }] });
  const s = await ort.InferenceSession.create(encodeModel(m), { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const feeds = { a: new ort.Tensor('float32', xf, [1, k]) };
  const y = (await s.run(feeds)).y!.data as Float32Array;
  let num = 0, den = 0;
  for (let r = 0; r < n; r++) {
    let acc = 0;
    for (let i = 0; i < k; i++) acc += xf[i]! * wv[r * k + i]! * 0.01;
    num += (y[r]! - acc) ** 2;
    den += acc * acc;
  }
  if (!(Math.sqrt(num / den) < 0.02)) throw new QrobustError(`ORT MatMulNBits: relative error ${Math.sqrt(num / den)} against the float reference`);
  const tp = (await timeBoth(() => undefined, () => s.run(feeds), reps))[1];
  await s.release();
  rows.push({ name: 'int4 gemv (batch 1)', shape, threads, ours_gops: ops / t4 / 1e9, peer: 'onnxruntime-node MatMulNBits (4-bit, acc. level 4)', peer_gops: ops / tp / 1e9, ratio: tp / t4 });
  return rows;
}

/** ONNX row packing (K padded to a multiple of 8 per row) of signed 4- / 2-bit values, low bits first. */
function packRowsSigned(vals: Int8Array, n: number, k: number, bits: 4 | 2): Uint8Array {
  const rowBytes = Math.ceil(k / 8) * bits;
  const out = new Uint8Array(n * rowBytes);
  const mask = (1 << bits) - 1, per = 8 / bits;
  for (let r = 0; r < n; r++)
    for (let i = 0; i < k; i++) out[r * rowBytes + Math.floor(i / per)]! |= (vals[r * k + i]! & mask) << ((i % per) * bits);
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rng = new Rng(20261124);
  const rows: Row[] = [];
  const log = (r: Row): void => {
    rows.push(r);
    if (!args.json) console.log(`${r.name.padEnd(28)} ${r.shape.padEnd(24)} t=${r.threads}  ours ${r.ours_gops.toFixed(1).padStart(6)} GOPS  peer ${r.peer_gops.toFixed(1).padStart(6)} GOPS  ratio ${r.ratio.toFixed(2)}${r.ours_best_gops ? `  [best ${r.ours_best_gops.toFixed(0)} / ${r.peer_best_gops!.toFixed(0)}]` : ''}  (${r.peer})`);
  };
  const info = native().intqFastKernels();
  if (!args.json) console.log(`kernel ${info.gemm}; onnxruntime-node ${ort.env.versions.node ?? '?'}; reps ${args.reps} (median, interleaved)`);
  for (const t of args.threads) {
    if (!args.only || args.only === 'gemm') {
      // a GEMM run is ~5 ms: take at least 15 interleaved pairs so one preemption does not move the median
      log(await gemmRow('int8 gemm', 1024, 1024, 1024, t, Math.max(args.reps, 15), rng.fork(`g1-${t}`)));
      log(await gemmRow('int8 gemm', 256, 2048, 2048, t, Math.max(args.reps, 15), rng.fork(`g2-${t}`)));
    }
    if (!args.only || args.only === 'conv') {
      const shapes = readShapes();
      for (const sh of args.quick ? shapes.filter((_, i) => i % 3 === 0) : shapes) log(await convRow(sh, t, args.reps, rng.fork(`c-${sh.name}-${t}`)));
    }
    if (!args.only || args.only === 'gemv') {
      log(await gemmRow('int8 gemv (batch 1)', 1, 4096, 4096, t, Math.max(args.reps, 15), rng.fork(`v-${t}`)));
      for (const r of await gemvRows(4096, 4096, t, Math.max(args.reps, 15), rng.fork(`vl-${t}`))) log(r);
    }
  }
  if (args.json) process.stdout.write(JSON.stringify(rows) + '\n');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
