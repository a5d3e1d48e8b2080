/**
 * The learning-rate schedule of the MQBench recipe (PROTOCOL.md §1): a linear warm-up from
 * `startFactor · peak` to `peak` over `warmupSteps`, then a half cosine from `peak` to 0 at `totalSteps`.
 * Step t (0-based) is the t-th optimiser update; it uses lr(t).
 */
import { int, num } from '../util/is.ts';

/** Schedule parameters. */
export interface ScheduleConfig {
  /** the peak learning rate */
  peak: number;
  /** optimiser updates in the whole run */
  totalSteps: number;
  /** updates of the linear warm-up (0: none) */
  warmupSteps: number;
  /** the warm-up starts at startFactor · peak (the recipe's 1e-4 → 4e-3 is 0.025) */
  startFactor: number;
}

/**
 * The learning rate of update `step`.
 * @param step 0-based update index (0 <= step < totalSteps)
 * @param cfg the schedule
 * @throws UsageError on a bad step or configuration
 * @example
 * warmupCosineLr(0, { peak: 0.1, totalSteps: 100, warmupSteps: 10, startFactor: 0.025 }) // 0.0025 (to rounding)
 * warmupCosineLr(10, { peak: 0.1, totalSteps: 100, warmupSteps: 10, startFactor: 0.025 }) // 0.1
 */
export function warmupCosineLr(step: number, cfg: ScheduleConfig): number {
  const total = int('totalSteps', cfg.totalSteps, 1);
  const warm = int('warmupSteps', cfg.warmupSteps, 0, total);
  const peak = num('lr', cfg.peak, 0);
  const f0 = num('warmup start factor', cfg.startFactor, 0, 1);
  int('step', step, 0, total - 1);
  if (step < warm) return peak * (f0 + ((1 - f0) * step) / warm);
  const span = total - warm;
  return 0.5 * peak * (1 + Math.cos((Math.PI * (step - warm)) / span));
}
