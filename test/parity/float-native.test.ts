// oneDNN (and OpenBLAS GEMM) against the scalar twins (double accumulation) over random awkward
// shapes and resnet-like layers, forward, backward-data and backward-weights, with a stated float
// tolerance: |lib − twin| ≤ 2e-4 + 1e-4·|twin| (float32 sums of up to ~5,000 O(1) products).
// Skips a backend that is not compiled in. Also prints one timing of each path (not asserted).
import assert from 'node:assert/strict';
import { Tensor, conv2dForward, conv2dBackwardData, conv2dBackwardWeights, conv2dGeometry, matmul, floatInfo, type FloatBackendName, type Conv2dOptions } from '../../ts/tensor/index.ts';
import { Rng } from '../../ts/util/rng.ts';

const ATOL = 2e-4;
const RTOL = 1e-4;

function close(label: string, got: Tensor, want: Tensor): number {
  const g = got.data;
  const w = want.data;
  let m = 0;
  for (let i = 0; i < w.length; i++) {
    const e = Math.abs(g[i]! - w[i]!);
    m = Math.max(m, e);
    assert.ok(e <= ATOL + RTOL * Math.abs(w[i]!), `${label}[${i}]: ${g[i]} vs twin ${w[i]}`);
  }
  return m;
}

function timeIt(fn: () => void, minMs = 200): number {
  fn();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

describe('parity/float-native: library paths vs scalar twins', () => {
  const info = floatInfo();
  const rng = new Rng(31);

  const convShapes: { x: number[]; w: number[]; o: Conv2dOptions }[] = [];
  // random awkward shapes
  for (let i = 0; i < 12; i++) {
    const groups = [1, 1, 2, 3][rng.int(4)]!;
    const cig = 1 + rng.int(4);
    const cog = 1 + rng.int(4);
    const k = [1, 2, 3, 5][rng.int(4)]!;
    const dil = 1 + rng.int(2);
    const h = dil * (k - 1) + 1 + rng.int(9);
    const w = dil * (k - 1) + 1 + rng.int(9);
    convShapes.push({ x: [1 + rng.int(3), cig * groups, h, w], w: [cog * groups, cig, k, k], o: { stride: 1 + rng.int(2), padding: rng.int(3), dilation: dil, groups } });
  }
  // resnet20 / mobilenet-like layers
  convShapes.push({ x: [8, 16, 32, 32], w: [16, 16, 3, 3], o: { padding: 1 } });
  convShapes.push({ x: [8, 16, 32, 32], w: [32, 16, 3, 3], o: { padding: 1, stride: 2 } });
  convShapes.push({ x: [8, 32, 16, 16], w: [32, 1, 3, 3], o: { padding: 1, groups: 32 } });

  for (const be of ['dnnl'] as FloatBackendName[]) {
    it(`conv2d ${be} vs ref: forward, backward-data, backward-weights`, function () {
      if (!info.available.includes(be)) {
        console.log(`      skipped: ${be} is not compiled into this addon`);
        this.skip();
      }
      let worst = 0;
      for (const s of convShapes) {
        const x = Tensor.randn(s.x, rng);
        const w = Tensor.randn(s.w, rng, 0.5);
        const b = Tensor.randn([s.w[0]!], rng);
        const g = conv2dGeometry(x.shape, w.shape, s.o);
        const label = `${JSON.stringify(s)}`;
        const y0 = conv2dForward(x, w, b, s.o, 'ref');
        const y1 = conv2dForward(x, w, b, s.o, be);
        worst = Math.max(worst, close(`${label} y`, y1, y0));
        const dy = Tensor.randn(y0.shape, rng);
        worst = Math.max(worst, close(`${label} dx`, conv2dBackwardData(g, dy, w, be), conv2dBackwardData(g, dy, w, 'ref')));
        const r0 = conv2dBackwardWeights(g, x, dy, true, 'ref');
        const r1 = conv2dBackwardWeights(g, x, dy, true, be);
        worst = Math.max(worst, close(`${label} dw`, r1.dw, r0.dw));
        worst = Math.max(worst, close(`${label} db`, r1.db!, r0.db!));
      }
      // one timing, resnet20's widest 3x3 layer at batch 8
      const x = Tensor.randn([8, 16, 32, 32], rng);
      const w = Tensor.randn([16, 16, 3, 3], rng);
      const tRef = timeIt(() => conv2dForward(x, w, null, { padding: 1 }, 'ref'), 100);
      const tLib = timeIt(() => conv2dForward(x, w, null, { padding: 1 }, be));
      console.log(`      max |${be} − twin| = ${worst.toExponential(2)} over ${convShapes.length} shapes; conv 8x16x32x32 * 16x16x3x3: twin ${tRef.toFixed(2)} ms, ${be} ${tLib.toFixed(2)} ms (${(tRef / tLib).toFixed(1)}x, threads ${info.threads})`);
    });
  }

  for (const be of ['dnnl', 'openblas'] as FloatBackendName[]) {
    it(`GEMM ${be} vs ref, all transpositions`, function () {
      if (!info.available.includes(be)) {
        console.log(`      skipped: ${be} is not compiled into this addon`);
        this.skip();
      }
      let worst = 0;
      const dims = [[1, 1, 1], [3, 5, 7], [17, 1, 33], [64, 10, 576], [128, 65, 31]];
      for (const [m, n, k] of dims) {
        for (const ta of [false, true])
          for (const tb of [false, true]) {
            const a = Tensor.randn(ta ? [k!, m!] : [m!, k!], rng);
            const b = Tensor.randn(tb ? [n!, k!] : [k!, n!], rng);
            worst = Math.max(worst, close(`gemm ${m}x${n}x${k} ${ta}${tb}`, matmul(a, b, ta, tb, be), matmul(a, b, ta, tb, 'ref')));
          }
      }
      const a = Tensor.randn([128, 576], rng);
      const b = Tensor.randn([576, 64], rng);
      const tRef = timeIt(() => matmul(a, b, false, false, 'ref'), 100);
      const tLib = timeIt(() => matmul(a, b, false, false, be));
      console.log(`      max |${be} − twin| = ${worst.toExponential(2)}; gemm 128x64x576: twin ${tRef.toFixed(2)} ms, ${be} ${tLib.toFixed(3)} ms (${(tRef / tLib).toFixed(1)}x)`);
    });
  }
});
