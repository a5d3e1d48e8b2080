/**
 * The common shape of every data set qrobust reads (CONVENTIONS.md "Data names").
 *
 * A {@link Dataset} has class names and named splits; a {@link Split} has a length, all its labels up
 * front (so subsets can be stratified without decoding anything) and an async `get(i)` that returns either
 * the encoded file bytes (imagefolder, imagenet-c, fashion-mnist: JPEG/PNG files) or raw pixels
 * (cifar10, idx: the formats store pixels). Turning a sample into model input is the job of the
 * preprocess hook (preprocess.ts) and the batch builder (batch.ts).
 */

/** The data-name schemes of CONVENTIONS.md. */
export type DataKind = 'fashion-mnist' | 'imagefolder' | 'imagenet-c' | 'cifar10' | 'idx';

/** An interleaved (HWC) uint8 image. */
export interface HwcImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** A sample stored as an encoded file (JPEG, PNG, ...). */
export interface EncodedSample {
  kind: 'encoded';
  bytes: Uint8Array;
  /** the file it came from (for error messages and decoders that look at the extension) */
  file: string;
  label: number;
}

/** A sample stored as pixels (HWC uint8, 1 or 3 channels). */
export interface PixelSample extends HwcImage {
  kind: 'pixels';
  /** a readable locator, e.g. `data_batch_1.bin#17` */
  file: string;
  label: number;
}

export type Sample = EncodedSample | PixelSample;

/** One split (train, test, or one corruption/severity of ImageNet-C). */
export interface Split {
  readonly name: string;
  readonly length: number;
  /** the label of every sample, in sample order */
  readonly labels: Int32Array;
  /** A readable locator of sample `i` (a path, or `file#record`). */
  locate(i: number): string;
  /** Sample `i` (0 <= i < length). */
  get(i: number): Promise<Sample>;
}

/** Per-channel normalisation statistics of the model input in [0,1]. */
export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
  /** number of images they were computed over */
  images: number;
  /** the split they were computed on */
  split: string;
  /** the preprocess (id and implementation) that produced the inputs */
  preprocess: string;
  /** input size S of the S x S model input */
  size: number;
}

/** A data set opened by {@link openDataset}. */
export interface Dataset {
  /** the data name, canonical: `fashion-mnist` or `<scheme>:<absolute dir>` */
  readonly name: string;
  readonly kind: DataKind;
  readonly classes: readonly string[];
  /** split names in a stable order */
  readonly splits: readonly string[];
  /** the split used for training, or null when the set has none (imagenet-c, a flat imagefolder) */
  readonly trainSplit: string | null;
  /** the split used for evaluation, or null (imagenet-c: pick a corruption/severity) */
  readonly testSplit: string | null;
  /** the on-disk cache folder of a materialised set (fashion-mnist), else null */
  readonly cacheDir: string | null;
  /** normalisation stats recorded with the data set (fashion-mnist), else null */
  readonly stats: ChannelStats | null;
  /**
   * A split by name.
   * @throws UsageError naming the allowed splits
   */
  split(name: string): Split;
}
