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

#ifdef __cplusplus
}
#endif

#endif
