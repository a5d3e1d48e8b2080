/**
 * The data layer's entry point: {@link openDataset} opens any data name of CONVENTIONS.md behind the common
 * {@link Dataset} interface. See docs/data.md.
 */
import { parseDataName } from './names.ts';
import { openFashionMnist } from './fashion-mnist.ts';
import { openImageFolder } from './imagefolder.ts';
import { openImagenetC } from './imagenet-c.ts';
import { openCifar10 } from './cifar10.ts';
import { openIdx } from './idx.ts';
import type { Dataset } from './types.ts';

export type { Dataset, Split, Sample, EncodedSample, PixelSample, HwcImage, ChannelStats, DataKind } from './types.ts';
export { DATA_NAMES, parseDataName } from './names.ts';
export { selectSubset, shuffled, batchOrder, type SubsetRecord, type SubsetMethod } from './subset.ts';
export { buildBatch, iterateBatches, evalInput, rawInput, type Batch, type BatchOptions, type ToInput } from './batch.ts';
export {
  createPreprocess, registerPreprocess, preprocessProvider, preprocessIds, DEFAULT_PREPROCESS_ID,
  type Preprocess, type PixelPreprocess, type PreprocessProvider, type RgbImage,
} from './preprocess.ts';
export {
  cifarTrainInput, imagenetTrainInput, randomCropFlip, randomResizedCropBox, colorJitter, hflip, resizedCrop, type Box, type JitterConfig,
} from './augment.ts';
export { FASHION_MNIST_CLASSES, FASHION_MNIST_RECIPE, ensureFashionMnist, defaultCacheRoot } from './fashion-mnist.ts';

/** Options of {@link openDataset}. */
export interface OpenOptions {
  /** cache root for materialised sets (default $QROBUST_CACHE or `<repo>/.cache`) */
  cacheRoot?: string;
  /** the option name used in error messages (default `--data`) */
  option?: string;
}

/**
 * Opens a data set by name: `fashion-mnist` (materialised on first use), `imagefolder:<dir>`,
 * `imagenet-c:<dir>`, `cifar10:<dir>` or `idx:<dir>`.
 * @param name the data name
 * @param opts see {@link OpenOptions}
 * @throws UsageError (exit 2) for an unknown scheme (listing the allowed names), a missing directory or a
 *   directory without the expected files; QrobustError (exit 1) for corrupt content or a manifest mismatch
 * @example
 * const ds = await openDataset('fashion-mnist');
 * ds.classes.length // 10
 * ds.split('test').length // 9946
 */
export async function openDataset(name: string, opts: OpenOptions = {}): Promise<Dataset> {
  const d = parseDataName(name, opts.option);
  switch (d.kind) {
    case 'fashion-mnist':
      return openFashionMnist({ cacheRoot: opts.cacheRoot });
    case 'imagefolder':
      return openImageFolder(d.dir!, d.canonical);
    case 'imagenet-c':
      return openImagenetC(d.dir!, d.canonical);
    case 'cifar10':
      return openCifar10(d.dir!, d.canonical);
    case 'idx':
      return openIdx(d.dir!, d.canonical);
  }
}
