/**
 * One timed training step (zero grad, forward + label-smoothed CE, backward, SGD step) with its time split into
 * phases, shared by the profilers (bench/engine/profile-step.ts, bench/qat/profile-qat.ts).
 */
import * as ag from '../../ts/autograd/index.ts';
import type { Module } from '../../ts/nn/module.ts';
import type { Tensor } from '../../ts/tensor/index.ts';

/** Milliseconds per phase, summed over the timed steps. */
export interface StepPhases {
  forward: number;
  backward: number;
  step: number;
}

/**
 * @returns `one(timed)`: runs one step and returns its milliseconds; when `timed`, adds each phase to `phases`
 * @throws never (the step's own errors propagate)
 */
export function trainStepTimer(model: Module, sgd: { zeroGrad(): void; step(): void }, x: Tensor, labels: number[], phases: StepPhases): (timed: boolean) => number {
  return (timed) => {
    const t0 = performance.now();
    sgd.zeroGrad();
    const loss = ag.crossEntropy(model.call(x), labels, { labelSmoothing: 0.1 });
    const t1 = performance.now();
    ag.backward(loss);
    const t2 = performance.now();
    sgd.step();
    const t3 = performance.now();
    if (timed) {
      phases.forward += t1 - t0;
      phases.backward += t2 - t1;
      phases.step += t3 - t2;
    }
    return t3 - t0;
  };
}
