/** Typed contract of the integer kernels in the addon (native/binding/intq.cc). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface IntqNative {}
