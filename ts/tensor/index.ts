/** Tensors: storage, shapes, the Tensor view class and the checked float kernels. */
export { HostStorage, hostData, type Storage } from './storage.ts';
export { numel, contiguousStrides, checkShape, broadcastShapes, broadcastIndex, normAxes, fmtShape, type Shape } from './shape.ts';
export { Tensor, type GradNode } from './tensor.ts';
export * from './float-kernels.ts';
