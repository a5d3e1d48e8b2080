/**
 * Quantization-aware training (issue 9): configs, fake-quant primitives and modules, model preparation,
 * deployment export and the QAT runner. See docs/quant.md.
 */
export * from './config.ts';
export { EPS_F32, rint, qRange, minmaxScale, fakeQuantize, quantizeInt, lsqQuantize, pactClip, pactQuantize, dorefaWeightQuantize, minMax, meanAbs, setFakeQuantNative, FQ_BLOCK, FQ_LANES } from './fake.ts';
export { FakeQuant, quantizerKind, type FakeQuantSpec, type QuantRole, type QuantizerKind } from './quantizer.ts';
export {
  prepareQat, quantLayers, quantConfigOf, isQuantized, setObserverMode, freezeObservers, exportQuantParams, dorefaNormalized, namedModules,
  type QuantLayer, type PrepareOptions, type LayerQuantParams, type WeightQuantParams, type InputQuantParams,
} from './prepare.ts';
export { runQuantize, quantizeModel, quantRecordPath, QAT_DEFAULTS, type QuantizeOptions, type QuantizeRecord, type QuantizeResult } from './qat.ts';
