// libjpeg(-turbo) binding: decode to RGB with a chosen IDCT and chroma upsampling, encode RGB with
// Pillow's save() defaults (see qrb/image.h).
//
// Errors: libjpeg's default error_exit calls exit(). We install an error manager whose error_exit
// longjmp()s back to the single setjmp in each run_* function, which then returns a Status naming the
// problem ("corrupt JPEG: ..."). Only plain C data lives in those frames (no destructors are skipped);
// the output vectors belong to the caller. A premature end of data is a libjpeg *warning*
// (it pads with zeros); Pillow reports such a file as truncated, so we turn that warning into an error
// too. Other warnings (e.g. extraneous bytes) are ignored as Pillow ignores them.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "qrb/image.h"

namespace qrb::image {
namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char first_warning[JMSG_LENGTH_MAX];
  int truncated;  // JWRN_JPEG_EOF seen
};

extern "C" void qrb_jpeg_error_exit(j_common_ptr cinfo) {
  ErrorMgr* e = reinterpret_cast<ErrorMgr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

extern "C" void qrb_jpeg_emit_message(j_common_ptr cinfo, int level) {
  ErrorMgr* e = reinterpret_cast<ErrorMgr*>(cinfo->err);
  if (level < 0) {  // a warning (corrupt data libjpeg can skip over)
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = 1;
    if (cinfo->err->num_warnings == 0) (*cinfo->err->format_message)(cinfo, e->first_warning);
    cinfo->err->num_warnings++;
  }
}

extern "C" void qrb_jpeg_output_message(j_common_ptr) {}

void init_error(ErrorMgr* e) {
  std::memset(e, 0, sizeof(*e));
  jpeg_std_error(&e->pub);
  e->pub.error_exit = qrb_jpeg_error_exit;
  e->pub.emit_message = qrb_jpeg_emit_message;
  e->pub.output_message = qrb_jpeg_output_message;
}

std::string describe_sampling(const jpeg_decompress_struct& d) {
  if (d.num_components == 1) return "grey";
  if (d.num_components != 3) return std::to_string(d.num_components) + " components";
  const int h0 = d.comp_info[0].h_samp_factor, v0 = d.comp_info[0].v_samp_factor;
  const int h1 = d.comp_info[1].h_samp_factor, v1 = d.comp_info[1].v_samp_factor;
  const int h2 = d.comp_info[2].h_samp_factor, v2 = d.comp_info[2].v_samp_factor;
  if (h1 != h2 || v1 != v2) return "mixed";
  if (h0 == h1 && v0 == v1) return "4:4:4";
  if (h0 == 2 * h1 && v0 == 2 * v1) return "4:2:0";
  if (h0 == 2 * h1 && v0 == v1) return "4:2:2";
  if (h0 == h1 && v0 == 2 * v1) return "4:4:0";
  if (h0 == 4 * h1 && v0 == v1) return "4:1:1";
  return std::to_string(h0) + "x" + std::to_string(v0) + "," + std::to_string(h1) + "x" + std::to_string(v1);
}

const char* color_space_name(J_COLOR_SPACE cs) {
  switch (cs) {
    case JCS_GRAYSCALE: return "greyscale";
    case JCS_RGB: return "RGB";
    case JCS_YCbCr: return "YCbCr";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown";
  }
}

// Plain result record filled by run_decode; the caller turns it into a Status.
struct DecodeResult {
  int ok;
  char message[JMSG_LENGTH_MAX + 128];
};

// The one frame with setjmp. `rgb` is owned by the caller and sized here before any pixel is read;
// after a longjmp it is simply discarded by the caller.
void run_decode(const uint8_t* src, size_t len, const DecodeOptions& opt, bool header_only,
                std::vector<uint8_t>* rgb, JpegInfo* info, DecodeResult* res) {
  jpeg_decompress_struct d;
  ErrorMgr err;
  init_error(&err);
  d.err = &err.pub;
  res->ok = 0;
  res->message[0] = 0;
  if (setjmp(err.jump)) {
    std::snprintf(res->message, sizeof(res->message), "corrupt JPEG: %s", err.message);
    jpeg_destroy_decompress(&d);
    return;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, src, static_cast<unsigned long>(len));
  jpeg_read_header(&d, TRUE);
  info->width = int(d.image_width);
  info->height = int(d.image_height);
  info->components = d.num_components;
  info->progressive = d.progressive_mode != 0;
  // (std::string assignment cannot longjmp: nothing after it calls libjpeg before it completes)
  info->subsampling = describe_sampling(d);
  if (header_only) {
    jpeg_destroy_decompress(&d);
    res->ok = 1;
    return;
  }
  if (!(d.num_components == 1 || d.num_components == 3 || d.num_components == 4) ||
      (d.num_components == 4 && d.jpeg_color_space != JCS_CMYK && d.jpeg_color_space != JCS_YCCK)) {
    std::snprintf(res->message, sizeof(res->message),
                  "unsupported JPEG colour space %s with %d components (greyscale, YCbCr, RGB, CMYK and YCCK are decoded)",
                  color_space_name(d.jpeg_color_space), d.num_components);
    jpeg_destroy_decompress(&d);
    return;
  }
  if (uint64_t(d.image_width) * d.image_height > opt.max_pixels) {
    std::snprintf(res->message, sizeof(res->message), "JPEG of %ux%u pixels is larger than the limit of %llu pixels",
                  d.image_width, d.image_height, static_cast<unsigned long long>(opt.max_pixels));
    jpeg_destroy_decompress(&d);
    return;
  }
  const bool grey = d.num_components == 1;
  const bool cmyk = d.num_components == 4;
  d.out_color_space = grey ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
  d.dct_method = opt.dct == Dct::Ifast ? JDCT_IFAST : opt.dct == Dct::Float ? JDCT_FLOAT : JDCT_ISLOW;
  d.do_fancy_upsampling = opt.fancy_upsampling ? TRUE : FALSE;
  jpeg_start_decompress(&d);
  const size_t w = d.output_width, h = d.output_height;
  // CMYK rows are decoded into a scratch row kept after the image (dropped at the end).
  rgb->resize(w * h * 3 + (cmyk ? w * 4 : 0));
  uint8_t* base = rgb->data();
  uint8_t* scratch = base + w * h * 3;
  while (d.output_scanline < d.output_height) {
    // Grey rows are decoded into the last third of the RGB row, then replicated forwards in place.
    uint8_t* row = base + size_t(d.output_scanline) * w * 3;
    JSAMPROW rp = grey ? row + 2 * w : cmyk ? scratch : row;
    if (jpeg_read_scanlines(&d, &rp, 1) != 1) break;
    if (cmyk) {
      // Pillow: every CMYK JPEG is read with Adobe polarity (inverted, rawmode "CMYK;I"), then
      // convert('RGB') computes each channel as (255 - k) - (c * (255 - k)) / 255, with its rounded
      // division by 255: t = a*b + 128, ((t >> 8) + t) >> 8.
      for (size_t x = 0; x < w; ++x) {
        const int nk = scratch[4 * x + 3];  // 255 - inverted k
        for (int c = 0; c < 3; ++c) {
          const int v = 255 - scratch[4 * x + c];
          const int t = v * nk + 128;
          const int r = nk - (((t >> 8) + t) >> 8);
          row[3 * x + c] = uint8_t(r < 0 ? 0 : r > 255 ? 255 : r);
        }
      }
    }
    if (grey) {
      for (size_t x = 0; x < w; ++x) {
        const uint8_t v = row[2 * w + x];
        row[3 * x] = v;
        row[3 * x + 1] = v;
        row[3 * x + 2] = v;
      }
    }
  }
  if (!err.truncated) jpeg_finish_decompress(&d);
  if (err.truncated) {
    std::snprintf(res->message, sizeof(res->message), "truncated JPEG: %s", err.first_warning);
    jpeg_destroy_decompress(&d);
    return;
  }
  jpeg_destroy_decompress(&d);
  rgb->resize(w * h * 3);
  res->ok = 1;
}

struct EncodeResult {
  int ok;
  char message[JMSG_LENGTH_MAX + 64];
};

void run_encode(const uint8_t* rgb, int width, int height, int quality, unsigned char** buf, unsigned long* size,
                EncodeResult* res) {
  jpeg_compress_struct c;
  ErrorMgr err;
  init_error(&err);
  c.err = &err.pub;
  res->ok = 0;
  if (setjmp(err.jump)) {
    std::snprintf(res->message, sizeof(res->message), "JPEG encode failed: %s", err.message);
    jpeg_destroy_compress(&c);
    return;
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, buf, size);
  c.image_width = JDIMENSION(width);
  c.image_height = JDIMENSION(height);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  // Pillow's save(quality=q) for an RGB image: library defaults (YCbCr, 2x2 luma sampling = 4:2:0,
  // islow DCT, Huffman tables not optimised, baseline), then the standard tables scaled to q with
  // force_baseline, smoothing 0.
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  c.smoothing_factor = 0;
  c.optimize_coding = FALSE;
  jpeg_start_compress(&c, TRUE);
  const size_t stride = size_t(width) * 3;
  while (c.next_scanline < c.image_height) {
    JSAMPROW rp = const_cast<JSAMPROW>(rgb + size_t(c.next_scanline) * stride);
    jpeg_write_scanlines(&c, &rp, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  res->ok = 1;
}

}  // namespace

Status jpeg_read_info(const uint8_t* src, size_t len, JpegInfo* info) {
  if (src == nullptr || len == 0) return Status::Error("corrupt JPEG: empty input");
  std::vector<uint8_t> unused;
  DecodeResult res;
  run_decode(src, len, DecodeOptions{}, true, &unused, info, &res);
  return res.ok ? Status::Ok() : Status::Error(res.message);
}

Status jpeg_decode(const uint8_t* src, size_t len, const DecodeOptions& opt, Image8* out, JpegInfo* info) {
  if (src == nullptr || len == 0) return Status::Error("corrupt JPEG: empty input");
  if (int(opt.dct) < 0 || int(opt.dct) > 2)
    return Status::Error("jpeg_decode(dct): expected 0 (islow), 1 (ifast) or 2 (float) but received " +
                         std::to_string(int(opt.dct)));
  JpegInfo local;
  JpegInfo* inf = info ? info : &local;
  DecodeResult res;
  out->data.clear();
  run_decode(src, len, opt, false, &out->data, inf, &res);
  if (!res.ok) {
    out->data.clear();
    out->data.shrink_to_fit();
    out->width = out->height = out->channels = 0;
    return Status::Error(res.message);
  }
  out->width = inf->width;
  out->height = inf->height;
  out->channels = 3;
  return Status::Ok();
}

Status jpeg_encode_rgb(const uint8_t* rgb, size_t len, int width, int height, int quality, std::vector<uint8_t>* out) {
  if (quality < 1 || quality > 100)
    return Status::Error("jpeg_encode(quality): expected integer 1..100 but received " + std::to_string(quality));
  if (width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
    return Status::Error("jpeg_encode(size): expected 1.." + std::to_string(JPEG_MAX_DIMENSION) + " per side but received " +
                         std::to_string(width) + "x" + std::to_string(height));
  if (len != size_t(width) * height * 3)
    return Status::Error("jpeg_encode(rgb): expected " + std::to_string(size_t(width) * height * 3) +
                         " bytes but received " + std::to_string(len));
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  EncodeResult res;
  run_encode(rgb, width, height, quality, &buf, &size, &res);
  if (res.ok) out->assign(buf, buf + size);
  std::free(buf);  // jpeg_mem_dest allocates with malloc
  return res.ok ? Status::Ok() : Status::Error(res.message);
}

}  // namespace qrb::image
