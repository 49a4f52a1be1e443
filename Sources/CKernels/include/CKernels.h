// Optimized convolution kernels in C: Swift's SIMD types cannot be compiled for several instruction sets
// in one binary, C functions with target attributes can, picked at run time by CPU feature checks.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which instruction set the kernels use on this CPU (highest supported).
typedef enum {
    CK_ISA_PORTABLE = 0,
    CK_ISA_AVX2_FMA = 1,
    CK_ISA_AVX512 = 2,
} ck_isa;

ck_isa ck_detected_isa(void);
/// Forces a lower instruction set (tests compare every path against the reference kernels);
/// requests above what the CPU supports are lowered to it.
void ck_force_isa(ck_isa isa);
const char *ck_isa_name(ck_isa isa);
/// The instruction set in use: detected, or lowered by ck_force_isa.
ck_isa ck_active_isa(void);

/// Output channels per packed panel.
#define CK_PANEL_WIDTH 16

/// Floats needed to pack a [n][k] weight matrix with its bias: per panel of 16 output channels,
/// 16 bias values then k rows of 16 weights, zero-padded past n.
size_t ck_packed_f32_count(int n, int k);
/// `weights` is [n][k] row-major (TFLite's conv filter [OC][KH][KW][IC] flattened); `bias` may be NULL.
void ck_pack_f32(const float *weights, const float *bias, int n, int k, float *packed);

/// Work units of one GEMM, for splitting across threads (each unit writes disjoint outputs).
int ck_gemm_f32_tile_count(int m, int n);
/// C[m][n] = clamp(A[m][k] * W^T + bias, lo, hi) for work units [tile_begin, tile_end).
/// A's rows are `lda` floats apart, C's rows `ldc` floats apart.
void ck_gemm_f32(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n,
                 float *c, ptrdiff_t ldc, float lo, float hi, int tile_begin, int tile_end);

/// Geometry of a 2-D window op on one NHWC image (batch handled by the caller).
typedef struct {
    int input_height, input_width, channels;
    int output_height, output_width;
    int filter_height, filter_width;
    int stride_height, stride_width;
    int dilation_height, dilation_width;
    int pad_top, pad_left;
} ck_window;

/// im2col for rows [row_begin, row_end) of the output image: each output pixel becomes one row of
/// filter_height * filter_width * channels values in (fy, fx, c) order, zeros where the window leaves
/// the image. Row r of the output image is written at columns + (r - row_begin) * output_width * k.
void ck_im2col_f32(const float *input, const ck_window *w, int row_begin, int row_end, float *columns);

/// Depthwise convolution with multiplier 1 for output rows [row_begin, row_end): filter
/// [fh][fw][channels], bias [channels] (never NULL: pass zeros).
void ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                      float *output, float lo, float hi, int row_begin, int row_end);

// MARK: - 8-bit (int8 per-channel / uint8 per-tensor), integer results equal to TFLite's reference kernels

/// TFLite's requantization of an int32 accumulator (MultiplyByQuantizedMultiplier, double rounding).
typedef struct {
    int32_t input_offset;      /// added to every input value (minus the input zero point)
    int32_t output_offset;     /// the output zero point
    int32_t activation_min, activation_max;
    const int32_t *significand; /// per output channel, Q0.31
    const int32_t *shift;       /// per output channel, > 0 left
    int is_signed;              /// int8 (1) or uint8 (0) elements
} ck_requant;

int32_t ck_requantize(int32_t accumulator, int32_t significand, int32_t shift);

/// int16 values of a [n][k] 8-bit filter with its offset added, in panels of 16 channels and pairs of k:
/// panel p, pair i, channel j, element e at p*k2*32 + i*32 + j*2 + e (k2 = (k+1)/2), zero-padded.
size_t ck_packed_q_count(int n, int k);
void ck_pack_q(const void *weights, int is_signed, int32_t filter_offset, int n, int k, int16_t *packed);

/// im2col to int16 with the input offset added; taps outside the image are 0 (TFLite skips them);
/// each row is `row_length` (>= k, even) long, zero-filled past k.
void ck_rows_q(const void *input, int is_signed, int32_t input_offset, const ck_window *w, int row_begin,
               int row_end, int row_length, int16_t *rows);

/// out[m][n] = requantize(sum_k a[m][k] * w[n][k] + bias[n]) for work units [tile_begin, tile_end)
/// (same units as ck_gemm_f32_tile_count). `a` rows are `lda` int16 apart, length 2*k2 (zero-padded).
void ck_gemm_q(const int16_t *a, ptrdiff_t lda, int m, int k, const int16_t *packed, int n, const int32_t *bias,
               const ck_requant *rq, void *out, ptrdiff_t ldc, int tile_begin, int tile_end);

/// Depthwise 8-bit convolution (multiplier 1) for output rows [row_begin, row_end): filter
/// [fh][fw][channels] as stored, bias may be NULL.
void ck_depthwise_q(const void *input, const ck_window *w, const void *filter, int32_t filter_offset,
                    const int32_t *bias, const ck_requant *rq, void *output, int row_begin, int row_end);

/// True when the CPU has AVX-512 VNNI (the int16 dot-product instructions the 8-bit GEMM uses).
int ck_has_avx512_vnni(void);

// ---- 8-bit softmax rows (OptimizedQuantizedSoftmax.swift) ----
// `top` is the row maximum; the tables have 256 entries indexed by top - x. `isa` is passed in (not the
// global choice) so tests can run every instruction set side by side.

/// Sum of summands[top - x[c]] over the row, wrapping like int32 addition.
int32_t ck_softmax_q_sum(const void *row, int is_signed, int depth, int32_t top, const int32_t *summands,
                         ck_isa isa);

/// output[c] = clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(scale, exponentials[top - x[c]]),
/// exponent) + type minimum); requires scale > 0, exponentials >= 0 and exponent in 0...31.
void ck_softmax_q_output(const void *row, int is_signed, int depth, int32_t top, const int32_t *exponentials,
                         int32_t scale, int32_t exponent, void *output, ck_isa isa);

#ifdef __cplusplus
}
#endif

#endif
