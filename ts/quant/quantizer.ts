/**
 * Fake-quant modules (PROTOCOL.md §1, mqbench-paper "academic" semantics by default; §7.6 library variant and
 * §7.7 observer modes). One {@link FakeQuant} quantizes either a layer's weight or the activation at its input.
 *
 * Behaviour by kind (what {@link quantizerKind} returns):
 * - `dorefa-weight` (DoReFa and PACT weights): w̃ = tanh(w)/(max|tanh w| + 1e-5) with autograd through tanh and
 *   the max, scale from min/max of w̃ (per tensor or per channel), signed grid, straight-through rounding.
 * - `lsq` (weights and activations): learnable step s, initialised on the first training batch to
 *   2·mean|x|/√Q_P, then |s| ≥ eps each forward; scale gradient × 1/√(N·Q_P), N = numel (batch included;
 *   per channel: numel / channels).
 * - `dorefa-fixed` (DoReFa activations below 8 bits): fixed range, s = 1/(2^b − 1) unsigned, 2/(2^b − 1) signed.
 * - `pact` (PACT activations below 8 bits; every PACT activation in the library variant): α = |α| (learnable,
 *   6.0 initially), clip at α (and −α when the batch still has negatives), s = α/(2^b − 1) unsigned or
 *   α/((2^b − 1)/2) signed, detached.
 * - `minmax` (DoReFa / PACT activations at 8 bits; every DoReFa activation in the library variant): per-batch
 *   min/max while training or in `faithful` mode; the calibrated range in `frozen` mode.
 *
 * Activation quantizers start signed; a batch whose minimum is ≥ 0 switches them to unsigned for good
 * (ada_sign). The build-time probe of {@link prepareQat} decides it once; afterwards the switch can only
 * happen while training (LSQ: on its initialisation batch) or in `faithful` mode.
 *
 * State (buffers, saved in q-checkpoints): `signed` [1] (1 / 0), `scale` [1 | C] (the scale last used; a
 * learnable parameter for LSQ), `range` [2] (calibrated min / max, NaN until calibrated; min/max kind),
 * `initialized` [1] (LSQ), and the parameter `alpha` [1] (PACT).
 */
import { QrobustError, invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import type { ObserverMode, QuantMethod, QuantVariant } from './config.ts';
import { EPS_F32, dorefaWeightQuantize, fakeQuantize, lsqQuantize, meanAbs, minMax, minmaxScale, pactQuantize, qRange } from './fake.ts';

export type QuantRole = 'weight' | 'input';
export type QuantizerKind = 'dorefa-weight' | 'lsq' | 'dorefa-fixed' | 'pact' | 'minmax';

/** What one {@link FakeQuant} is. */
export interface FakeQuantSpec {
  method: QuantMethod;
  /** effective bits of this quantizer (8 for the first / last layer) */
  bits: number;
  role: QuantRole;
  variant: QuantVariant;
  /** per-channel scales (weights only) */
  perChannel: boolean;
  /** output channels of the weight (per-channel scale count) */
  channels: number;
  observerMode: ObserverMode;
}

/**
 * The kind of quantizer a spec gives (see the file comment).
 * @throws never
 * @example
 * quantizerKind({ method: 'pact', bits: 8, role: 'input', variant: 'academic' }) // 'minmax'
 */
export function quantizerKind(s: Pick<FakeQuantSpec, 'method' | 'bits' | 'role' | 'variant'>): QuantizerKind {
  if (s.method === 'lsq') return 'lsq';
  if (s.role === 'weight') return 'dorefa-weight';
  if (s.variant === 'library') return s.method === 'pact' ? 'pact' : 'minmax';
  if (s.bits === 8) return 'minmax';
  return s.method === 'pact' ? 'pact' : 'dorefa-fixed';
}

/** Internal phases besides normal operation. */
type Phase = 'normal' | 'probe' | 'calibrate';

/** A fake-quant module for one weight or one input activation. */
export class FakeQuant extends Module {
  readonly method: QuantMethod;
  readonly bits: number;
  readonly role: QuantRole;
  readonly variant: QuantVariant;
  readonly perChannel: boolean;
  readonly channels: number;
  readonly kind: QuantizerKind;
  /** how ranges behave outside training (see ObserverMode) */
  observerMode: ObserverMode;
  readonly signed: Tensor;
  readonly scale: Tensor;
  readonly alpha: Tensor | null;
  readonly range: Tensor | null;
  readonly initialized: Tensor | null;
  private phase: Phase = 'normal';
  private calib = { n: 0, lo: 0, hi: 0 };

  constructor(spec: FakeQuantSpec) {
    super();
    this.method = spec.method;
    this.bits = spec.bits;
    this.role = spec.role;
    this.variant = spec.variant;
    this.perChannel = spec.role === 'weight' && spec.perChannel;
    this.channels = this.perChannel ? spec.channels : 1;
    if (!Number.isInteger(this.channels) || this.channels < 1) throw invalidOption('channels', 'integer >= 1', spec.channels);
    this.kind = quantizerKind(spec);
    this.observerMode = spec.observerMode;
    this.signed = this.registerBuffer('signed', Tensor.from([1]));
    if (this.kind === 'lsq') {
      this.scale = this.registerParameter('scale', Tensor.full([this.channels], 1));
      this.initialized = this.registerBuffer('initialized', Tensor.from([0]));
    } else {
      this.scale = this.registerBuffer('scale', Tensor.full([this.channels], 1));
      this.initialized = null;
    }
    this.alpha = this.kind === 'pact' ? this.registerParameter('alpha', Tensor.from([6])) : null;
    this.range = this.kind === 'minmax' ? this.registerBuffer('range', Tensor.from([NaN, NaN])) : null;
  }

  /** Whether the quantizer is signed now. */
  get isSigned(): boolean {
    return this.signed.data[0] === 1;
  }

  /** The integer range now. */
  get intRange(): { qmin: number; qmax: number } {
    return qRange(this.bits, this.isSigned);
  }

  /** Whether this quantizer's result depends on the batch when evaluated in its current mode. */
  get batchDependent(): boolean {
    if (this.role === 'weight' || this.kind === 'lsq') return false;
    if (this.observerMode === 'faithful') return this.kind === 'minmax' || this.isSigned;
    return false;
  }

  /** @internal used by prepare.ts (probe / calibration passes) */
  setPhase(p: Phase): void {
    this.phase = p;
    if (p === 'calibrate') this.calib = { n: 0, lo: 0, hi: 0 };
  }

  /** @internal ends a calibration pass: range ← mean of the per-batch min / max. */
  finishCalibration(): void {
    if (this.range && this.calib.n > 0) {
      this.range.data[0] = this.calib.lo / this.calib.n;
      this.range.data[1] = this.calib.hi / this.calib.n;
    }
    this.phase = 'normal';
  }

  /** Whether the calibrated range exists (min/max kind). */
  get calibrated(): boolean {
    return this.range === null || Number.isFinite(this.range.data[0]!);
  }

  forward(x: Tensor): Tensor {
    if (this.phase === 'probe') {
      if (this.role === 'input' && this.isSigned && minMax(x).lo[0]! >= 0) this.signed.data[0] = 0;
      return x;
    }
    return this.role === 'weight' ? this.forwardWeight(x) : this.forwardInput(x);
  }

  private forwardWeight(w: Tensor): Tensor {
    const { qmin, qmax } = qRange(this.bits, true);
    if (this.kind === 'lsq') return this.lsq(w, qmin, qmax);
    // tanh, the max-normalisation, min/max scales and the fake-quant as one op (native unless the TS loops run)
    return dorefaWeightQuantize(w, this.channels, qmin, qmax, this.scale.data);
  }

  /** Live ranges (per batch) while training, calibrating, or in faithful mode; fixed ones when frozen. */
  private get live(): boolean {
    return this.training || this.phase === 'calibrate' || this.observerMode === 'faithful';
  }

  private adaSign(x: Tensor): void {
    if (this.isSigned && minMax(x).lo[0]! >= 0) this.signed.data[0] = 0;
  }

  private forwardInput(x: Tensor): Tensor {
    if (this.kind !== 'lsq' && this.live) this.adaSign(x);
    const signed = this.isSigned;
    const { qmin, qmax } = qRange(this.bits, signed);
    const sd = this.scale.data;
    switch (this.kind) {
      case 'lsq':
      {
        if (this.training && this.initialized!.data[0] === 0) this.adaSign(x);
        const r = qRange(this.bits, this.isSigned);
        return this.lsq(x, r.qmin, r.qmax);
      }
      case 'dorefa-fixed':
        sd[0] = minmaxScale(signed ? -1 : 0, 1, qmin, qmax, !signed);
        return fakeQuantize(x, sd[0]!, qmin, qmax);
      case 'minmax': {
        let lo: number;
        let hi: number;
        if (this.live) {
          const mm = minMax(x);
          lo = mm.lo[0]!;
          hi = mm.hi[0]!;
          if (this.phase === 'calibrate') {
            this.calib.n++;
            this.calib.lo += lo;
            this.calib.hi += hi;
          }
        } else {
          if (!this.calibrated) throw new QrobustError('a frozen 8-bit activation quantizer has no calibrated range: run freezeObservers(model, batches) first, or use observer mode faithful');
          lo = this.range!.data[0]!;
          hi = this.range!.data[1]!;
        }
        sd[0] = minmaxScale(lo, hi, qmin, qmax, !signed);
        return fakeQuantize(x, sd[0]!, qmin, qmax);
      }
      case 'pact': {
        const ad = this.alpha!.data;
        ad[0] = Math.abs(ad[0]!);
        const a = ad[0]!;
        sd[0] = minmaxScale(signed ? -a : 0, a, qmin, qmax, !signed);
        if (this.variant === 'library' && !this.training && this.phase !== 'calibrate') return fakeQuantize(x, sd[0]!, qmin, qmax);
        // clip below only while the batch (after the upper clip) still has negatives, as mqbench-paper;
        // clip and fake-quant in one op (fakeQuantize(pactClip(x, α, 'auto'), s) with the float backend 'ref')
        return pactQuantize(x, this.alpha!, 'auto', sd[0]!, qmin, qmax);
      }
      default:
        throw new QrobustError(`FakeQuant: no input path for kind ${this.kind}`);
    }
  }

  private lsq(x: Tensor, qmin: number, qmax: number): Tensor {
    const sd = this.scale.data;
    if (this.training && this.initialized!.data[0] === 0) {
      const m = meanAbs(x, this.channels);
      for (let c = 0; c < this.channels; c++) sd[c] = Math.fround((2 * m[c]!) / Math.sqrt(qmax));
      this.initialized!.data[0] = 1;
    }
    for (let c = 0; c < this.channels; c++) {
      const v = Math.abs(sd[c]!);
      sd[c] = v > EPS_F32 ? v : EPS_F32;
    }
    const n = x.size / this.channels;
    return lsqQuantize(x, this.scale, qmin, qmax, 1 / Math.sqrt(n * qmax));
  }
}
