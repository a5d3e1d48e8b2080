/** Typed contract of the float engine primitives in the addon (native/binding/float.cc). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface FloatNative {}
