/**
 * Pipelines as data: the 14 systematic ids in CONVENTIONS.md order, the extras, the descriptors of the
 * pipelines (libjpeg + Pillow of issue 6, OpenCV / ffmpeg / sharp / jpeg-js of issue 7), the libraries
 * each needs, decoder sharing, named errors for unknown ids, the ONECROP / square geometry (torchvision
 * truncation and round-half-even), and the TSDoc examples.
 */
import { strict as assert } from 'node:assert';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import {
  EXTRA_IDS, PIPELINE_IDS, SYSTEMATIC_IDS, decoderKey, getPipeline, implementedPipelineIds, pilExactPipelineIds,
  requireImplemented, samePipeline,
} from '../../../ts/systematic/pipelines.ts';
import { cropGeometry, isJpeg } from '../../../ts/systematic/preprocess.ts';

describe('systematic/pipelines', () => {
  it('lists the 14 systematic ids in the fixed order, then the extras', () => {
    assert.deepEqual([...SYSTEMATIC_IDS], [
      'dec-pil', 'dec-opencv', 'dec-ffmpeg', 'rs-pil-nearest', 'rs-pil-box', 'rs-pil-bilinear', 'rs-pil-hamming',
      'rs-pil-bicubic', 'rs-pil-lanczos', 'rs-opencv-nearest', 'rs-opencv-linear', 'rs-opencv-area', 'rs-opencv-cubic',
      'rs-opencv-lanczos4',
    ]);
    for (const id of ['dec-sharp', 'dec-jpegjs', 'dec-nvjpeg-like', 'dec-tf-fast', 'dec-ffmpeg-accurate',
      'rs-opencv-nearest_exact', 'rs-opencv-linear_exact', 'rs-sharp-lanczos3']) assert.ok((EXTRA_IDS as readonly string[]).includes(id), id);
    assert.equal(new Set(PIPELINE_IDS).size, PIPELINE_IDS.length);
    for (const id of PIPELINE_IDS) assert.equal(getPipeline(id).id, id);
  });

  it('groups: decoder sweep, resizer sweep, extras', () => {
    assert.deepEqual(SYSTEMATIC_IDS.filter((id) => getPipeline(id).group === 'decoder'), ['dec-pil', 'dec-opencv', 'dec-ffmpeg']);
    assert.equal(SYSTEMATIC_IDS.filter((id) => getPipeline(id).group === 'resizer').length, 11);
    for (const id of EXTRA_IDS) assert.equal(getPipeline(id).group, 'extra');
  });

  it('implements every id; the libjpeg + Pillow ones have the documented descriptors', () => {
    assert.deepEqual(implementedPipelineIds(), [...PIPELINE_IDS]);
    assert.equal(PIPELINE_IDS.length, 29);
    assert.deepEqual(pilExactPipelineIds().sort(), [
      'dec-nvjpeg-like', 'dec-pil', 'dec-tf-fast', 'rs-pil-bicubic', 'rs-pil-bilinear', 'rs-pil-box', 'rs-pil-hamming',
      'rs-pil-lanczos', 'rs-pil-nearest',
    ]);
    assert.deepEqual(getPipeline('dec-pil').decoder, { library: 'libjpeg', dct: 'islow', fancyUpsampling: true });
    assert.deepEqual(getPipeline('dec-pil').resizer, { library: 'pil', filter: 'bilinear' });
    assert.deepEqual(getPipeline('dec-tf-fast').decoder, { library: 'libjpeg', dct: 'ifast', fancyUpsampling: true });
    assert.deepEqual(getPipeline('dec-nvjpeg-like').decoder, { library: 'libjpeg', dct: 'islow', fancyUpsampling: false });
    assert.deepEqual(requireImplemented('rs-pil-lanczos').resizer, { library: 'pil', filter: 'lanczos' });
    assert.ok(samePipeline('dec-pil', 'rs-pil-bilinear'));
    assert.ok(!samePipeline('dec-pil', 'rs-pil-bicubic'));
    assert.ok(Object.isFrozen(getPipeline('dec-pil')) && Object.isFrozen(getPipeline('dec-pil').decoder));
    assert.deepEqual(JSON.parse(JSON.stringify(getPipeline('rs-pil-box'))), getPipeline('rs-pil-box'));
    assert.equal(getPipeline('dec-pil').version, 1);
  });

  it('issue-7 descriptors, the libraries each pipeline needs, and decoder sharing', () => {
    assert.deepEqual(getPipeline('dec-opencv').decoder, { library: 'opencv' });
    assert.deepEqual(getPipeline('dec-opencv').resizer, { library: 'pil', filter: 'bilinear' });
    assert.deepEqual(getPipeline('dec-ffmpeg-accurate').decoder, { library: 'ffmpeg', options: { sws_flags: 'bilinear+accurate_rnd+full_chroma_int' } });
    assert.deepEqual(getPipeline('rs-opencv-nearest_exact').resizer, { library: 'opencv', kernel: 'nearest_exact' });
    assert.deepEqual(getPipeline('rs-sharp-mks2021').resizer, { library: 'sharp', kernel: 'mks2021' });
    assert.deepEqual(getPipeline('dec-pil').requires, ['libjpeg']);
    assert.deepEqual(getPipeline('dec-ffmpeg').requires, ['ffmpeg', 'libjpeg']);
    assert.deepEqual(getPipeline('rs-opencv-area').requires, ['libjpeg', 'opencv']);
    assert.deepEqual(getPipeline('dec-jpegjs').requires, ['jpeg-js', 'libjpeg']);
    // every resizer sweep id shares dec-pil's decode; the decoder sweep ids each have their own
    for (const id of SYSTEMATIC_IDS.filter((x) => x.startsWith('rs-'))) assert.equal(decoderKey(getPipeline(id)), decoderKey(getPipeline('dec-pil')), id);
    assert.equal(new Set(SYSTEMATIC_IDS.map((id) => decoderKey(getPipeline(id)))).size, 3);
    assert.equal(new Set(PIPELINE_IDS.map((id) => decoderKey(getPipeline(id)))).size, 8);
  });

  it('unknown ids: a usage error listing the allowed ids', () => {
    assert.throws(() => getPipeline('dec-foo'), (e: unknown) =>
      e instanceof UsageError && /Expected one of dec-pil, dec-opencv/.test(e.message) && /received 'dec-foo'/.test(e.message));
    assert.throws(() => requireImplemented('rs-opencv-bogus', '--pipeline'), (e: unknown) =>
      e instanceof UsageError && e instanceof QrobustError && /for --pipeline but received 'rs-opencv-bogus'/.test(e.message));
  });

  it('geometry: ONECROP truncates the long side, square is R x R, crops round half to even', () => {
    assert.deepEqual(cropGeometry(500, 375, 224, 'onecrop'), { rw: 341, rh: 256, left: 58, top: 16 });
    assert.deepEqual(cropGeometry(500, 375, 224, 'square'), { rw: 256, rh: 256, left: 16, top: 16 });
    assert.deepEqual(cropGeometry(375, 500, 224, 'onecrop'), { rw: 256, rh: 341, left: 16, top: 58 });
    assert.deepEqual(cropGeometry(64, 64, 32, 'onecrop'), { rw: 36, rh: 36, left: 2, top: 2 });
    // 227x149 -> R=256: 256*227/149 = 390.0067 -> 390; (390-224)/2 = 83
    assert.deepEqual(cropGeometry(227, 149, 224, 'onecrop'), { rw: 390, rh: 256, left: 83, top: 16 });
    // (37-32)/2 = 2.5 rounds to 2 (half to even), (39-32)/2 = 3.5 rounds to 4
    assert.equal(cropGeometry(37 * 36, 36 * 36, 32, 'onecrop').left, 2);
    assert.equal(cropGeometry(39 * 36, 36 * 36, 32, 'onecrop').left, 4);
    assert.throws(() => cropGeometry(0, 5, 32, 'onecrop'), UsageError);
    assert.throws(() => cropGeometry(5, 5, 32, 'diagonal' as 'square'), UsageError);
  });

  it('recognises JPEG by its SOI marker', () => {
    assert.ok(isJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])));
    assert.ok(!isJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47])));
    assert.ok(!isJpeg(new Uint8Array([])));
  });
});
