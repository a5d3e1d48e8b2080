/**
 * The parity report (CONVENTIONS.md: `{"target","layers":[{"name","elements","mismatches","max_lsb"}],
 * "top1_agreement","n"}`): the same deploy graph run by the fake-quant reference and by a target's integer
 * arithmetic on the same inputs; per layer, how many output codes differ and by how many LSB (codes compared as
 * q − z, so an int8 target and a uint8 reference compare), and the top-1 agreement of the logits.
 */
import type { Target } from '../targets/index.ts';
import { runGraph } from './exec.ts';
import { lowerForTarget } from './lower.ts';
import type { DeployGraph, DeployNode, QPoint, Value } from './ir.ts';

export interface ParityLayer { name: string; op: string; elements: number; mismatches: number; max_lsb: number }
export interface ParityReport { target: string; reference: string; layers: ParityLayer[]; top1_agreement: number; n: number; conversions: string[] }

function outPoint(n: DeployNode): QPoint | null {
  switch (n.op) {
    case 'qconv': case 'qadd': case 'qgap': return n.out;
    case 'qgemm': return n.out;
    case 'quantize': return n.q;
    default: return null;
  }
}

/** Argmax per row. */
export function top1(v: Value, classes: number): Int32Array {
  const n = v.data.length / classes, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < classes; j++) if (v.data[i * classes + j]! > v.data[i * classes + b]!) b = j;
    out[i] = b;
  }
  return out;
}

/** Accumulates a parity report over batches. */
export class ParityAccumulator {
  private readonly layers = new Map<string, ParityLayer>();
  private agree = 0;
  private n = 0;
  private readonly lowered: DeployGraph;
  private readonly ref: DeployGraph;
  constructor(graph: DeployGraph, private readonly target: Target, private readonly reference: Target) {
    this.lowered = lowerForTarget(graph, target);
    this.ref = lowerForTarget(graph, reference);
  }
  /** Runs one batch through both and compares. */
  add(x: Float32Array, shape: number[]): void {
    const refOut = new Map<string, { v: Value; p: QPoint | null; op: string }>();
    const ro = runGraph(this.ref, x, shape, this.reference, (n, v) => refOut.set(n.name, { v, p: outPoint(n), op: n.op }));
    const to = runGraph(this.lowered, x, shape, this.target, (n, v) => {
      // a sub-8-bit output written through an 8-bit point (lower.ts) is compared after rounding onto its grid
      if (n.outputs[0]!.endsWith(':fine')) return;
      const key = n.op === 'quantize' && n.name.endsWith('.grid_quant') ? n.name.slice(0, -'.grid_quant'.length) : n.name;
      const r = refOut.get(key);
      const p = outPoint(n);
      if (!r || !p || !r.p) return;
      if (r.v.data instanceof Float32Array || v.data instanceof Float32Array) return;
      const l = this.layers.get(key) ?? { name: key, op: r.op, elements: 0, mismatches: 0, max_lsb: 0 };
      // in reference LSBs: codes compare as q − z when the scales agree; a rescaled point (TensorRT's symmetric
      // conversion) compares by real value, rounded to reference LSBs
      const ratio = p.scale === r.p.scale ? 1 : p.scale / r.p.scale;
      for (let i = 0; i < v.data.length; i++) {
        const d = ratio === 1 ? Math.abs((v.data[i]! - p.zeroPoint) - (r.v.data[i]! - r.p.zeroPoint)) : Math.round(Math.abs((v.data[i]! - p.zeroPoint) * ratio - (r.v.data[i]! - r.p.zeroPoint)));
        if (d !== 0) {
          l.mismatches++;
          if (d > l.max_lsb) l.max_lsb = d;
        }
      }
      l.elements += v.data.length;
      this.layers.set(key, l);
    });
    const name = this.lowered.outputs[0]!;
    const a = ro.get(name)!, b = to.get(name)!;
    const classes = a.shape[a.shape.length - 1]!;
    const ta = top1(a, classes), tb = top1(b, classes);
    for (let i = 0; i < ta.length; i++) if (ta[i] === tb[i]) this.agree++;
    this.n += ta.length;
  }
  report(): ParityReport {
    return { target: this.target.id, reference: this.reference.id, layers: [...this.layers.values()], top1_agreement: this.n ? (100 * this.agree) / this.n : 0, n: this.n, conversions: this.lowered.conversions };
  }
}
