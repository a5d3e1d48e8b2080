/**
 * Tape-based autograd: one file per primitive family, each op's forward beside its backward.
 * Differentiate with {@link backward} (accumulates into `.grad` of leaves) or {@link grad}
 * (returns d output / d inputs, e.g. for attacks); {@link noGrad} turns recording off.
 */
export { backward, grad, noGrad, isGradEnabled, needsGrad, param, record, zeroGrad } from './graph.ts';
export { add, sub, mul, div, neg, where, relu, relu6, clamp, sign, abs, tanh, round, roundHalfEven, sumTo } from './elementwise.ts';
export { sum, mean, max, type ReduceOptions } from './reduce.ts';
export { reshape, flatten } from './shape.ts';
export { conv2d } from './conv.ts';
export { linear, matmul } from './linear.ts';
export { batchnorm2d, type BatchNormOptions } from './norm.ts';
export { maxPool2d, avgPool2d, globalAvgPool2d, type Pool2dOptions } from './pool.ts';
export { crossEntropy, type CrossEntropyOptions } from './loss.ts';
export { dropout } from './dropout.ts';
export { gradcheck, awayFromKinks, type GradcheckOptions, type GradcheckResult } from './gradcheck.ts';
