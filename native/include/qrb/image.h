// Exact reference preprocessing (issue 6): a thin libjpeg(-turbo) binding and a re-implementation of
// Pillow's uint8 resampling, written from Pillow's documented semantics so that outputs are bit-exact
// with Pillow 9.x (Resample.c / Geometry.c / Reduce.c) and with `djpeg`.
//
//   jpeg_decode      islow / ifast / float IDCT, fancy upsampling on/off; always RGB (grey replicated,
//                    as Pillow's convert('RGB'); CMYK/YCCK read with Adobe polarity and converted as Pillow
//                    does); EXIF orientation ignored (as Pillow). Errors (corrupt, truncated, unsupported
//                    colour space, too large) come back as a Status naming them.
//   jpeg_encode      RGB at quality q with Pillow's save() defaults: jpeg_set_defaults (4:2:0, the
//                    standard Annex K tables scaled by q, force_baseline), no optimize, no progressive.
//   pil_resize       Pillow Image.resize for nearest/box/bilinear/hamming/bicubic/lanczos, any channel
//                    count 1..4, optionally only a window of the output (a centre crop costs nothing extra
//                    and gives the same bytes as resize-then-crop).
//   pil_reduce_box   Pillow Image.reduce((fx, fy)) (box average, ceil-sized output, partial corners).
//
// Tests: native/tests/test_image_*.cc (ctest -R image_), test/parity/pil-*.test.ts (against Pillow/djpeg).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qrb/status.h"

namespace qrb::image {

// IDCT choice; the numeric values are the wire format of the binding (ts/native/image.ts pins them).
enum class Dct : int { Islow = 0, Ifast = 1, Float = 2 };

// Largest decoded image accepted (pixels): Pillow's DecompressionBombError threshold (2 x 89478485).
constexpr uint64_t kMaxPixels = 178956970ull;

struct DecodeOptions {
  Dct dct = Dct::Islow;
  bool fancy_upsampling = true;
  uint64_t max_pixels = kMaxPixels;  // larger headers are refused before any allocation
};

// Interleaved uint8 image (HWC).
struct Image8 {
  std::vector<uint8_t> data;
  int width = 0;
  int height = 0;
  int channels = 0;
};

// What the JPEG header says, for messages and tests.
struct JpegInfo {
  int width = 0, height = 0, components = 0;
  bool progressive = false;
  // Sampling factors of component 0 (luma) relative to the others: "4:2:0", "4:4:4", "4:2:2", "grey", ...
  std::string subsampling;
};

Status jpeg_decode(const uint8_t* src, size_t len, const DecodeOptions& opt, Image8* out, JpegInfo* info = nullptr);
Status jpeg_read_info(const uint8_t* src, size_t len, JpegInfo* info);
// rgb: w*h*3 bytes. quality 1..100.
Status jpeg_encode_rgb(const uint8_t* rgb, size_t len, int width, int height, int quality, std::vector<uint8_t>* out);

// Pillow's resampling filters. Values are the binding's wire format, not Pillow's numbering.
enum class Filter : int { Nearest = 0, Box = 1, Bilinear = 2, Hamming = 3, Bicubic = 4, Lanczos = 5 };

// A window of the output grid; {0,0,out_w,out_h} is the whole output.
struct Window {
  int x = 0, y = 0, w = 0, h = 0;
};

// src: in_h*in_w*channels bytes. dst: win.w*win.h*channels bytes. Output pixel (x, y) of the window is
// pixel (win.x + x, win.y + y) of Pillow's im.resize((out_w, out_h), filter).
Status pil_resize(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int out_w, int out_h,
                  Filter filter, const Window& win, uint8_t* dst, size_t dst_len);

// Output is ceil(in_w/fx) x ceil(in_h/fy). dst must hold that many pixels.
Status pil_reduce_box(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int fx, int fy,
                      uint8_t* dst, size_t dst_len);

}  // namespace qrb::image
