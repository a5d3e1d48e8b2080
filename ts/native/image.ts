/** Typed contract of the image functions in the addon (native/binding/image.cc). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ImageNative {}
