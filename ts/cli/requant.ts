/**
 * `qrobust requant --variant <id> --scale <M> [--zero-point Z] [--qmin lo] [--qmax hi] --acc <a,b,c,...> [--json]`:
 * how a deployed stack requantizes the given int32 accumulators with real multiplier M, forming its own
 * multiplier from M as that stack does (double + QuantizeMultiplier for TFLite, float32 for XNNPACK / ORT /
 * ONNX reference / TensorRT, the float32 mantissa and exponent for XNNPACK rndnu). Users debugging a parity
 * mismatch between two devices start here: run it once per variant on the accumulators that differ.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { invalidOption } from '../util/errors.ts';
import { oneOf, parseIntFlag } from '../util/is.ts';
import { setQuiet } from '../util/progress.ts';
import { formMultiplier, requantize, VARIANTS } from '../native/intq.ts';
import type { NativeMultiplier, Variant } from '../native/intq.ts';

/** One line per variant: what the stack computes (INTEGER.md §a). */
export const VARIANT_FORMULAS: Record<Variant, string> = {
  'tflite-double': 'RDBPOT(SRDHM(acc·2^max(e,0), q), max(−e,0)) + zy, clamp; (q, e) = QuantizeMultiplier(M in double)',
  'tflite-single': '(acc·q + 2^(30−e)) >> (31−e) in int64 + zy, clamp; e clamped to ≤ 30',
  'xnnpack-fp32': 'fl32(fl32(acc)·M32), clamp to [qmin−zy, qmax−zy] in float, RNE, + zy',
  'xnnpack-rndnu': '(acc·mantissa + 2^(sh−1)) >> sh, clamp to [qmin−zy, qmax−zy], + zy; mantissa, sh from float32 M',
  'ort-mlas': 'fl32(fl32(acc)·M32), clamp in float, RNE, + zy (MLAS requantize)',
  'onnx-ref': 'rint(float64(acc)·float64(M32) + zy), saturate',
  'trt-gpu': 'fl32(fl32(fl32(acc)·α) + β), RNE, saturate; α = M32, β = bias/sy (0 here); zero point must be 0',
  'fp16-fallback': 'no integer requantization: fp16(fl32(acc)·M32) + zy (the value an FP16 engine holds, unclamped)',
};

/** JSON printed by `requant --json`. */
export interface RequantJson {
  variant: Variant;
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
  acc: number[];
  outputs: number[];
  multiplier: Record<string, number | string>;
  formula: string;
}

function hexBits32(f: number): string {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, f);
  return `0x${b.getUint32(0).toString(16).padStart(8, '0')}`;
}

/**
 * The multiplier as the variant's stack holds it (only the fields that stack uses).
 * @param variant the stack
 * @param m the native multiplier of {@link formMultiplier}
 * @returns named fields: TFLite (real, q, shift), XNNPACK rndnu (mantissa, rightShift), float32 stacks (float32, bits)
 * @throws never
 * @example
 * describeMultiplier('tflite-double', formMultiplier('tflite-double', 3)).q // 1610612736
 */
export function describeMultiplier(variant: Variant, m: NativeMultiplier): Record<string, number | string> {
  switch (variant) {
    case 'tflite-double':
    case 'tflite-single':
      return { real: m.m64, q: m.q, shift: m.shift, effective: m.q * 2 ** (m.shift - 31) };
    case 'xnnpack-rndnu':
      return { float32: m.m32, bits: hexBits32(m.m32), mantissa: m.rndnuMultiplier, rightShift: m.rndnuShift };
    case 'trt-gpu':
      return { alpha: m.m32, bits: hexBits32(m.m32) };
    default:
      return { float32: m.m32, bits: hexBits32(m.m32) };
  }
}

/**
 * Parses `--acc`: comma-separated int32 integers.
 * @param s the flag value
 * @returns the accumulators
 * @throws UsageError naming --acc for an empty item, a non-integer or a value outside int32
 * @example
 * Array.from(parseAccList('-3,0,7')) // [-3, 0, 7]
 */
export function parseAccList(s: string): Int32Array {
  const items = s.split(',').map((x) => x.trim());
  if (items.length === 0 || items.some((x) => x.length === 0)) throw invalidOption('--acc', 'a comma-separated list of int32 integers', s);
  return Int32Array.from(items.map((x) => parseIntFlag('--acc', x, -2147483648, 2147483647)));
}

/**
 * Parses `--scale`: a finite real multiplier in [0, 256).
 * @param s the flag value
 * @returns M
 * @throws UsageError naming --scale otherwise
 * @example
 * parseScale('0.25') // 0.25
 */
export function parseScale(s: string): number {
  const v = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(v) || v < 0 || v >= 256) throw invalidOption('--scale', 'a real multiplier M in [0, 256)', s);
  return v;
}

/**
 * Runs the requantization of `qrobust requant`.
 * @param opts variant, real multiplier, zero point, clamp range and accumulators
 * @returns the JSON object of `--json`
 * @throws UsageError for an unknown variant, M outside [0, 256), zero point outside [qmin, qmax], or a
 *   non-zero zero point for trt-gpu
 * @example
 * runRequant({ variant: 'tflite-double', scale: 0.25, acc: Int32Array.from([-10, 10]) }).outputs // [-3, 3]
 */
export function runRequant(opts: { variant: string; scale: number; zeroPoint?: number; qmin?: number; qmax?: number; acc: Int32Array }): RequantJson {
  const variant = oneOf('--variant', opts.variant, VARIANTS);
  const zeroPoint = opts.zeroPoint ?? 0, qmin = opts.qmin ?? -128, qmax = opts.qmax ?? 127;
  if (qmin > qmax) throw invalidOption('--qmax', `an integer >= --qmin (${qmin})`, qmax);
  if (variant !== 'fp16-fallback' && (zeroPoint < qmin || zeroPoint > qmax)) throw invalidOption('--zero-point', `an integer in [${qmin}, ${qmax}]`, zeroPoint);
  if (variant === 'trt-gpu' && zeroPoint !== 0) throw invalidOption('--zero-point', '0 (trt-gpu is symmetric only)', zeroPoint);
  const m = formMultiplier(variant, opts.scale);
  const out = requantize(opts.acc, { variant, multiplier: opts.scale, zeroPoint, qmin, qmax });
  return {
    variant,
    scale: opts.scale,
    zeroPoint,
    qmin,
    qmax,
    acc: Array.from(opts.acc),
    outputs: Array.from(out),
    multiplier: describeMultiplier(variant, m),
    formula: VARIANT_FORMULAS[variant],
  };
}

function render(r: RequantJson): string {
  const lines = [`variant     ${r.variant}`, `formula     ${r.formula}`];
  lines.push(`multiplier  ${Object.entries(r.multiplier).map(([k, v]) => `${k}=${v}`).join('  ')}`);
  lines.push(`output      zero point ${r.zeroPoint}, clamp [${r.qmin}, ${r.qmax}]${r.variant === 'fp16-fallback' ? ' (not applied: fp16 values)' : ''}`);
  const w = Math.max(...r.acc.map((a) => String(a).length), 3);
  lines.push('', `${'acc'.padStart(w)}  ->  out`);
  r.acc.forEach((a, i) => lines.push(`${String(a).padStart(w)}  ->  ${r.outputs[i]}`));
  return lines.join('\n');
}

/**
 * Registers `qrobust requant`.
 * @param program the root command
 * @throws never
 * @example
 * const program = new Command();
 * registerRequantCommand(program);
 * program.commands[0].name() // => 'requant'
 */
export function registerRequantCommand(program: Command): void {
  program
    .command('requant')
    .description('requantize int32 accumulators as a deployed stack does (tflite-double, tflite-single, xnnpack-fp32, xnnpack-rndnu, ort-mlas, onnx-ref, trt-gpu, fp16-fallback)')
    .addOption(new Option('--variant <id>', `the stack: ${VARIANTS.join(', ')}`).makeOptionMandatory())
    .addOption(new Option('--scale <M>', 'the real multiplier M = sx·sw/sy, in [0, 256)').makeOptionMandatory())
    .addOption(new Option('--acc <list>', 'comma-separated int32 accumulators (bias included), e.g. --acc=-3,-2,-1,0,1,2,3').makeOptionMandatory())
    .addOption(new Option('--zero-point <Z>', 'output zero point').default('0'))
    .addOption(new Option('--qmin <lo>', 'lower clamp (ReLU fusion: the zero point)').default('-128'))
    .addOption(new Option('--qmax <hi>', 'upper clamp').default('127'))
    .addOption(new Option('--json', 'print one JSON object to stdout'))
    .action((opts: { variant: string; scale: string; acc: string; zeroPoint: string; qmin: string; qmax: string; json?: boolean }) => {
      if (opts.json) setQuiet(true);
      const variant = oneOf('--variant', opts.variant, VARIANTS);
      const r = runRequant({
        variant,
        scale: parseScale(opts.scale),
        acc: parseAccList(opts.acc),
        zeroPoint: parseIntFlag('--zero-point', opts.zeroPoint, -2147483648, 2147483647),
        qmin: parseIntFlag('--qmin', opts.qmin, -2147483648, 2147483647),
        qmax: parseIntFlag('--qmax', opts.qmax, -2147483648, 2147483647),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${render(r)}\n`);
    });
}
