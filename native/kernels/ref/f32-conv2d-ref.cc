// Scalar reference twins of the float convolution: forward, backward-data, backward-weights.
// Variants: this file only (the oneDNN path is native/kernels/float/f32-conv2d-dnnl.cc).
// Layout: NCHW input/output, OIHW weights with I = Cin/groups (torch). Accumulation is in double, so
// the twin is a tighter reference than any float32 library path; parity tests state their tolerance.
// Test: native/tests/test_float_conv.cc (ctest -R float_conv), test/parity/float-native.test.ts.
#include <vector>

#include "qrb/float.h"

namespace qrb {

void f32_conv2d_fwd_ref(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  const int64_t oh = p.oh(), ow = p.ow(), cig = p.cin / p.groups, cog = p.cout / p.groups;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oc = 0; oc < p.cout; ++oc) {
      const int64_t g = oc / cog;
      const float* wo = w + oc * cig * p.kh * p.kw;
      float* yo = y + (n * p.cout + oc) * oh * ow;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = b ? double(b[oc]) : 0.0;
          for (int64_t ic = 0; ic < cig; ++ic) {
            const float* xc = x + (n * p.cin + g * cig + ic) * p.h * p.w;
            const float* wc = wo + ic * p.kh * p.kw;
            for (int64_t a = 0; a < p.kh; ++a) {
              const int64_t ih = i * p.stride_h - p.pad_h + a * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int64_t c = 0; c < p.kw; ++c) {
                const int64_t iw = j * p.stride_w - p.pad_w + c * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += double(xc[ih * p.w + iw]) * double(wc[a * p.kw + c]);
              }
            }
          }
          yo[i * ow + j] = float(acc);
        }
    }
}

void f32_conv2d_bwd_data_ref(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const int64_t oh = p.oh(), ow = p.ow(), cig = p.cin / p.groups, cog = p.cout / p.groups;
  std::vector<double> acc(size_t(p.cin * p.h * p.w));
  for (int64_t n = 0; n < p.n; ++n) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t oc = 0; oc < p.cout; ++oc) {
      const int64_t g = oc / cog;
      const float* wo = w + oc * cig * p.kh * p.kw;
      const float* dyo = dy + (n * p.cout + oc) * oh * ow;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const double gy = dyo[i * ow + j];
          if (gy == 0.0) continue;
          for (int64_t ic = 0; ic < cig; ++ic) {
            double* ac = acc.data() + (g * cig + ic) * p.h * p.w;
            const float* wc = wo + ic * p.kh * p.kw;
            for (int64_t a = 0; a < p.kh; ++a) {
              const int64_t ih = i * p.stride_h - p.pad_h + a * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int64_t c = 0; c < p.kw; ++c) {
                const int64_t iw = j * p.stride_w - p.pad_w + c * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                ac[ih * p.w + iw] += gy * double(wc[a * p.kw + c]);
              }
            }
          }
        }
    }
    float* dxn = dx + n * p.cin * p.h * p.w;
    for (size_t t = 0; t < acc.size(); ++t) dxn[t] = float(acc[t]);
  }
}

void f32_conv2d_bwd_weights_ref(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db) {
  const int64_t oh = p.oh(), ow = p.ow(), cig = p.cin / p.groups, cog = p.cout / p.groups;
  for (int64_t oc = 0; oc < p.cout; ++oc) {
    const int64_t g = oc / cog;
    if (db) {
      double s = 0.0;
      for (int64_t n = 0; n < p.n; ++n) {
        const float* dyo = dy + (n * p.cout + oc) * oh * ow;
        for (int64_t t = 0; t < oh * ow; ++t) s += dyo[t];
      }
      db[oc] = float(s);
    }
    for (int64_t ic = 0; ic < cig; ++ic)
      for (int64_t a = 0; a < p.kh; ++a)
        for (int64_t c = 0; c < p.kw; ++c) {
          double s = 0.0;
          for (int64_t n = 0; n < p.n; ++n) {
            const float* xc = x + (n * p.cin + g * cig + ic) * p.h * p.w;
            const float* dyo = dy + (n * p.cout + oc) * oh * ow;
            for (int64_t i = 0; i < oh; ++i) {
              const int64_t ih = i * p.stride_h - p.pad_h + a * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int64_t j = 0; j < ow; ++j) {
                const int64_t iw = j * p.stride_w - p.pad_w + c * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                s += double(xc[ih * p.w + iw]) * double(dyo[i * ow + j]);
              }
            }
          }
          dw[((oc * cig + ic) * p.kh + a) * p.kw + c] = float(s);
        }
  }
}

}  // namespace qrb
