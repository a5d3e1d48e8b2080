// Fake quantization for QAT (issue 9): the forward with its straight-through mask, the masked backward,
// LSQ's backward (gradient of x and per-scale sums), PACT's clip fused with the fake-quant (forward and
// backward with the α gradient), per-channel min / max, and DoReFa's tanh-normalised weights (forward
// and backward as one op). float32, contiguous.
//
// Arithmetic is torch's CPU fake-quant kernels', and bit for bit that of the TypeScript reference loops in
// ts/quant/fake.ts (their twins):
//   inv = fl(1/s);  q = nearbyint(fl(x·inv))  (half to even);  x̂ = fl(clamp(q, qmin, qmax)·s)
// A rounded −0 gives +0 (torch's integer). mask = 1 where qmin ≤ q ≤ qmax (NaN x: mask 1, x̂ NaN, as the TS).
// Scales are per tensor (channels = 1) or per channel of axis 0 (n = channels·inner, channel c owns
// elements [c·inner, (c+1)·inner)).
//
// Reductions (LSQ's scale gradient, PACT's α gradient) follow one fixed order, independent of the thread
// count, which the TS twins follow too, so every path gives the same bits:
//   per channel, blocks of kFqBlock consecutive elements from the channel's first element (the last one
//   shorter); inside a block, kFqLanes double accumulators, element i of the block going to lane i mod
//   kFqLanes in index order; block sum = ((lane0 + lane1) + lane2) + … ; channel sum = 0 + block sums in
//   block order.
// min / max are order-free except for the sign of a zero result, which is that of the first zero in index
// order (as a sequential strict-comparison loop); NaN is skipped; an empty or all-NaN channel gives
// +inf / −inf.
//
// The validating entry points check every length, scale > 0 and finite, qmin ≤ qmax with |q| ≤ 2^20,
// α ≥ 0 and finite, and return a Status naming the argument; they never crash on bad input. The *_ref
// twins (native/kernels/ref/f32-fake-quant-ref.cc) are single-threaded scalar loops and assume checked
// arguments; the threaded variants live in native/kernels/float/f32-fake-quant.cc.
#pragma once
#include <cstddef>
#include <cstdint>

#include "qrb/status.h"

namespace qrb {

constexpr int64_t kFqBlock = 4096;
constexpr int kFqLanes = 8;
// |qmin|, |qmax| limit: keeps nearbyint exact through the 1.5·2^23 rounding constant.
constexpr int32_t kFqQLimit = int32_t(1) << 20;

// PACT's lower clip: never, always, or when some x < 0 (mqbench-paper decides per batch).
enum class PactLow : int { none = 0, always = 1, automatic = 2 };

// ---- validating, threaded (float_threads()) entry points -----------------------------------------------
// y = fake-quant(x); mask (may be null) = 1 inside [qmin, qmax], else 0.
Status f32_fake_quant(const float* x, size_t n, const float* scale, size_t channels, int32_t qmin, int32_t qmax,
                      float* y, size_t y_len, uint8_t* mask, size_t mask_len);
// gx = mask ? g : 0.
Status f32_fake_quant_backward(const float* g, const uint8_t* mask, size_t n, float* gx, size_t gx_len);
// LSQ (torch._fake_quantize_learnable_per_{tensor,channel}_affine, zero point 0), given x, its fake-quant
// y and the gradient g of y: gx = g inside, 0 outside; gs[c] = fl(grad_factor · Σ_c t), t = fl(fl(g·fl(y−x))·inv)
// inside, g·qmin below, g·qmax above (products of g in double), summed in the fixed order.
Status f32_lsq_backward(const float* x, const float* y, const float* g, size_t n, const float* scale,
                        size_t channels, int32_t qmin, int32_t qmax, double grad_factor, float* gx, size_t gx_len,
                        float* gs, size_t gs_len);
// PACT clip fused with a per-tensor fake-quant: xc = where(x > α, α, x), then where(xc < −α, −α, xc) when
// the lower clip applies; y = fake-quant(xc, scale). code[i] = fq mask (bit 0) | clip (bits 1-2: 0 none,
// 1 above α, 2 below −α). *low_applied tells whether the lower clip ran.
Status f32_pact_fake_quant(const float* x, size_t n, float alpha, PactLow low, float scale, int32_t qmin,
                           int32_t qmax, float* y, size_t y_len, uint8_t* code, size_t code_len, bool* low_applied);
// Backward of f32_pact_fake_quant: t = (code & 1) ? g : 0; gx = clip none ? t : 0;
// *galpha = fl(Σ_{above} t − Σ_{below} t) in the fixed order (the term of an unclipped element is 0).
Status f32_pact_fake_quant_backward(const float* g, const uint8_t* code, size_t n, float* gx, size_t gx_len,
                                    float* galpha);
// Per-channel minimum and maximum (lo, hi have `channels` entries).
Status f32_min_max(const float* x, size_t n, size_t channels, float* lo, float* hi, size_t lohi_len);
// DoReFa weights, given t = fl(tanh(w)) (the caller computes it, so that it is the same tanh as its
// reference): *m = max|t| (NaN propagates), *d = fl(m + fl(1e-5)), wn = fl(t/d), and the per-channel
// min / max of wn as f32_min_max.
Status f32_dorefa_normalize(const float* t, size_t n, size_t channels, float* wn, size_t wn_len, float* lo, float* hi,
                            size_t lohi_len, float* m, float* d);
// Gradient of w through a fake-quant (mask) of wn = t/(max|t| + 1e-5), t = tanh(w), given g at the
// fake-quant's output: the operations and roundings of ts/autograd's div (numerator and the broadcast
// denominator, whose terms are summed in index order in double), add, max (ties share), abs and tanh rules.
Status f32_dorefa_weight_backward(const float* g, const uint8_t* mask, const float* t, size_t n, float m, float d,
                                  float* gw, size_t gw_len);

// ---- scalar reference twins (checked arguments, one thread) ---------------------------------------------
void f32_fake_quant_ref(const float* x, size_t n, const float* scale, size_t channels, int32_t qmin, int32_t qmax,
                        float* y, uint8_t* mask);
void f32_fake_quant_backward_ref(const float* g, const uint8_t* mask, size_t n, float* gx);
void f32_lsq_backward_ref(const float* x, const float* y, const float* g, size_t n, const float* scale,
                          size_t channels, int32_t qmin, int32_t qmax, double grad_factor, float* gx, float* gs);
void f32_pact_fake_quant_ref(const float* x, size_t n, float alpha, PactLow low, float scale, int32_t qmin,
                             int32_t qmax, float* y, uint8_t* code, bool* low_applied);
void f32_pact_fake_quant_backward_ref(const float* g, const uint8_t* code, size_t n, float* gx, float* galpha);
void f32_min_max_ref(const float* x, size_t n, size_t channels, float* lo, float* hi);
void f32_dorefa_normalize_ref(const float* t, size_t n, size_t channels, float* wn, float* lo, float* hi, float* m,
                              float* d);
void f32_dorefa_weight_backward_ref(const float* g, const uint8_t* mask, const float* t, size_t n, float m, float d,
                                    float* gw);

}  // namespace qrb
