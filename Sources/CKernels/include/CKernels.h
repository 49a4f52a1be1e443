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
/// `isa`, lowered to what this CPU supports (kernels taking an instruction set as an argument use this).
ck_isa ck_supported_isa(ck_isa isa);

/// Output channels per packed panel.
#define CK_PANEL_WIDTH 16

/// Floats needed to pack a [n][k] weight matrix with its bias: per panel of 16 output channels,
/// 16 bias values then k rows of 16 weights, zero-padded past n.
size_t ck_packed_f32_count(int n, int k);
/// `weights` is [n][k] row-major (TFLite's conv filter [OC][KH][KW][IC] flattened); `bias` may be NULL.
void ck_pack_f32(const float *weights, const float *bias, int n, int k, float *packed);

/// Work units of ck_gemm_q (24 rows x 4 panels; historical name, the float GEMM uses its own units).
int ck_gemm_f32_tile_count(int m, int n);
/// Work units of ck_gemm_f32, for splitting across threads (each unit writes disjoint outputs).
int ck_gemm_f32_unit_count(int m, int n);
/// C[m][n] = clamp(A[m][k] * W^T + bias, lo, hi) for work units [unit_begin, unit_end) of
/// ck_gemm_f32_unit_count. A's rows are `lda` floats apart, C's rows `ldc` floats apart.
/// The float kernels take their instruction set as an argument (callers pass ck_active_isa() or a
/// lower one; higher ones are lowered to what the CPU has), so tests can try every path without
/// changing the process-wide choice under kernels running concurrently.
void ck_gemm_f32(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n,
                 float *c, ptrdiff_t ldc, float lo, float hi, int unit_begin, int unit_end, ck_isa isa);
/// ck_gemm_f32 with a residual added before the clamp: C = clamp(A * W^T + bias + R, lo, hi), R's rows
/// `ldr` floats apart (a 1x1 convolution without activation fused with the ADD after it: the same two
/// float additions in the same order as the convolution's output plus R). R may be C itself.
void ck_gemm_f32_residual(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n, float *c,
                          ptrdiff_t ldc, const float *residual, ptrdiff_t ldr, float lo, float hi, int unit_begin,
                          int unit_end, ck_isa isa);

/// Geometry of a 2-D window op on one NHWC image (batch handled by the caller).
typedef struct {
    int input_height, input_width, channels;
    int output_height, output_width;
    int filter_height, filter_width;
    int stride_height, stride_width;
    int dilation_height, dilation_width;
    int pad_top, pad_left;
} ck_window;

/// im2col for output pixels [pixel_begin, pixel_end) (row-major over the output image): each pixel
/// becomes one row of filter_height * filter_width * channels values in (fy, fx, c) order, zeros where
/// the window leaves the image.
void ck_im2col_f32(const float *input, const ck_window *w, int pixel_begin, int pixel_end, float *columns);

/// Floats of scratch ck_conv_f32 needs (one work unit's im2col rows).
size_t ck_conv_f32_scratch_count(const ck_window *w);
/// A general convolution of one NHWC image through the packed GEMM: c[oh*ow][n] =
/// clamp(im2col(input) * W^T + bias, lo, hi) for work units [unit_begin, unit_end) of
/// ck_gemm_f32_unit_count(oh * ow, n). Each unit gathers its own im2col rows into `scratch`
/// (ck_conv_f32_scratch_count floats, one buffer per concurrent call).
void ck_conv_f32(const float *input, const ck_window *w, const float *packed, int n, float *c, float lo,
                 float hi, int unit_begin, int unit_end, float *scratch, ck_isa isa);
/// Output pixels [pixel_begin, pixel_end) of the same convolution as ck_conv_f32 (the same sums, bit for
/// bit), all channels, written from c on (c holds pixel_begin's output, n floats per pixel): the rows a
/// fused chain's band needs. `scratch` as for ck_conv_f32.
void ck_conv_f32_pixels(const float *input, const ck_window *w, const float *packed, int n, float *c, float lo,
                        float hi, int pixel_begin, int pixel_end, float *scratch, ck_isa isa);

/// Depthwise convolution with multiplier 1 for output rows [row_begin, row_end): filter
/// [fh][fw][channels], bias [channels] (never NULL: pass zeros).
void ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                      float *output, float lo, float hi, int row_begin, int row_end, ck_isa isa);
/// 1 when the kernel copies the input rows each call reads (on AVX2 and AVX-512, stride-1 3x3 windows
/// whose input stays in L2): threads should then take few, long row ranges, as each range copies again
/// the rows its first outputs share with the range before.
int ck_depthwise_f32_copies_rows(const ck_window *w, ck_isa isa);

// MARK: - 8-bit (int8 per-channel / uint8 per-tensor), integer results equal to TFLite's reference kernels

/// TFLite's requantization of an int32 accumulator (MultiplyByQuantizedMultiplier, double rounding).
typedef struct {
    int32_t input_offset;      /// added to every input value (minus the input zero point)
    int32_t output_offset;     /// the output zero point
    int32_t activation_min, activation_max;
    const int32_t *significand; /// per output channel, Q0.31; readable up to a multiple of 16 channels
    const int32_t *shift;       /// per output channel, > 0 left; readable up to a multiple of 16 channels
    int is_signed;              /// int8 (1) or uint8 (0) elements
} ck_requant;

int32_t ck_requantize(int32_t accumulator, int32_t significand, int32_t shift);

/// Bytes of one im2col row and of one packed filter row: k rounded up to a multiple of 4.
int ck_gemm_q_depth(int k);
/// Bytes of a packed [n][k] filter: panels of 16 channels, quads of k, signed bytes (uint8 w - 128):
/// panel p, quad q, channel j, byte e at p*depth*16 + q*64 + j*4 + e, zero-padded.
size_t ck_gemm_q_packed_count(int n, int k);
/// Packs the filter and the per-channel constant terms (bias, `bias` may be NULL, plus the offset
/// corrections); `column_terms` holds n rounded up to 16 values.
void ck_gemm_q_pack(const void *weights, int is_signed, int32_t input_offset, int32_t filter_offset,
                    const int32_t *bias, int n, int k, int8_t *packed, int32_t *column_terms);
/// Factor of the per-row input sums in the accumulator; the row sums are needed only when it is not 0.
int32_t ck_gemm_q_row_sum_factor(int is_signed, int32_t filter_offset);
/// The unsigned-domain byte of taps outside the image (the input zero point): the GEMM needs it in 0...255.
int ck_gemm_q_padding(int is_signed, int32_t input_offset);

/// Bytes of scratch one concurrent ck_conv_q call needs (one work unit's im2col rows).
size_t ck_conv_q_scratch_size(const ck_window *w);
/// Work units of one 8-bit convolution, for splitting across threads (each unit writes disjoint outputs).
int ck_conv_q_tile_count(const ck_window *w, int n);
/// One NHWC image's 8-bit convolution, out[pixel][n] = requantize(sum_k (x + input offset)(w + filter
/// offset) + bias), for work units [tile_begin, tile_end) of ck_conv_q_tile_count, with a filter and terms
/// from ck_gemm_q_pack (made with rq->input_offset). 1x1 stride-1 layers read the input in place; other
/// shapes gather each unit's im2col rows into `scratch` (ck_conv_q_scratch_size bytes per concurrent call).
/// `narrow`: ck_conv_q_narrow's answer for the same layer, computed once (0 is always safe).
/// Whether ck_conv_q requantizes this layer with its narrow epilogue on AVX-512 VNNI (accumulators proven
/// below 2^30, right shifts only: one rounding add and saturating packs) rather than the general one.
int ck_conv_q_narrow(const ck_window *w, int n, const int32_t *column_terms, int32_t row_sum_factor,
                     const ck_requant *rq);
/// Sets the multiplier of every channel whose output is provably the same for every accumulator it can
/// reach, and equal to what a zero multiplier gives (dead relu channels, tiny multipliers), to zero:
/// `significand` and `shift` are the arrays `rq` points to. Outputs do not change; the narrow
/// requantization then no longer has to fit these channels. Call once, before ck_conv_q_narrow; returns
/// how many channels it changed.
int ck_conv_q_fold_constant_channels(const ck_window *w, int n, const int32_t *column_terms, int32_t row_sum_factor,
                                     const ck_requant *rq, int32_t *significand, int32_t *shift);
void ck_conv_q(const void *input, const ck_window *w, const int8_t *packed, int n, const int32_t *column_terms,
               int32_t row_sum_factor, const ck_requant *rq, int narrow, void *out, int tile_begin, int tile_end,
               uint8_t *scratch);

/// int32 values of a [taps][channels] 8-bit depthwise filter plus its offset, channels padded to 16,
/// followed by two rows of starting accumulators: the bias (`bias` may be NULL), and the bias plus
/// input offset * sum of the taps (for pixels whose whole window lies inside the image), then the taps
/// as int16 pairs for the AVX-512 vpmaddwd path and a flag saying whether they fit int16, then a flag
/// saying whether they fit int8 and, for 9 taps (3x3), the filter columns as bytes with their starting
/// accumulators for the AVX-512 VNNI path (vpdpbusd), and last a flag set by ck_depthwise_q_mark_narrow.
size_t ck_depthwise_q_packed_count(int taps, int channels);
void ck_depthwise_q_pack(const void *filter, int is_signed, int32_t filter_offset, int32_t input_offset,
                         const int32_t *bias, int taps, int channels, int32_t *packed);
/// Records in the packed filter whether, with requantization `rq`, every accumulator of the layer is
/// provably small enough for the narrow requantization (requantize_q.h, narrow16/narrow8); returns it.
/// Call once after ck_depthwise_q_pack, before any ck_depthwise_q with this filter and `rq`.
int ck_depthwise_q_mark_narrow(int32_t *packed, int taps, int channels, const ck_requant *rq);
/// ck_conv_q_fold_constant_channels for a packed depthwise filter: call after ck_depthwise_q_pack, before
/// ck_depthwise_q_mark_narrow.
int ck_depthwise_q_fold_constant_channels(const int32_t *packed, int taps, int channels, const ck_requant *rq,
                                          int32_t *significand, int32_t *shift);
/// Depthwise 8-bit convolution (multiplier 1) for output rows [row_begin, row_end) with a filter from
/// ck_depthwise_q_pack (made with rq->input_offset).
void ck_depthwise_q(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq, void *output,
                    int row_begin, int row_end);

/// True when the CPU has AVX-512 VNNI (the 8-bit dot-product instruction vpdpbusd).
int ck_has_avx512_vnni(void);
/// True when the active instruction set is AVX-512 with the BW and VL extensions the 8-bit kernels use.
int ck_has_avx512_q(void);
/// True when the 8-bit GEMM uses AVX-512 VNNI (vpdpbusd): available, AVX-512 active and not disabled.
int ck_gemm_q_uses_vnni(void);
/// Turns the VNNI GEMM off (1) or back on (0), so tests also cover AVX-512 without VNNI.
void ck_gemm_q_disable_vnni(int disabled);

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

// ---- Thread pool spin-wait hint (WorkerPool.swift) ----

/// Tells the core this is a busy-wait loop (x86 PAUSE, arm64 YIELD) so a spinning worker yields
/// pipeline resources to its sibling hyperthread and uses less power.
static inline void ck_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// ---- 8-bit layer ops, whole rows (softmax_q.c, dequantize_q.c, resize_bilinear_q.c) ----

/// Softmax of `rows` consecutive rows of `depth` (>= 1) values: each row's maximum into tops[r] and the
/// wrapping sum of summands[top - x] into sums[r]. Both 256-entry tables are 0 from index `length` on.
void ck_softmax_q_rows_sum(const void *input, int is_signed, int depth, int rows, const int32_t *summands,
                           int length, int32_t *tops, int32_t *sums, ck_isa isa);
/// The outputs of those rows, as ck_softmax_q_output with each row's top, scale and exponent.
void ck_softmax_q_rows_output(const void *input, int is_signed, int depth, int rows, const int32_t *tops,
                              const int32_t *exponentials, int length, const int32_t *scales,
                              const int32_t *exponents, void *output, ck_isa isa);
/// Quantized.reciprocal(sums[r], integerBits: integer_bits) into scales[r] and bits_over_unit[r].
void ck_softmax_q_reciprocals(const int32_t *sums, int rows, int32_t integer_bits, int32_t *scales,
                              int32_t *bits_over_unit, ck_isa isa);
/// output[i] = table[input[i]] for a 256-entry byte table (AVX-512 VBMI when the CPU has it).
void ck_lookup_bytes(const uint8_t *input, ptrdiff_t count, const uint8_t *table, uint8_t *output, ck_isa isa);
/// output[i] = (float)(x[i] - zero_point) * scale for 8-bit x, one float multiply per element.
void ck_dequantize_q(const void *input, int is_signed, ptrdiff_t count, int32_t zero_point, float scale,
                     float *output, ck_isa isa);
/// One int8 RESIZE_BILINEAR output row of `columns` pixels of `depth` channels from source rows row0 and
/// row1 (row fraction dy, 10 bits); per column the two source pixels' element offsets and the fraction.
void ck_resize_bilinear_s8_row(const int8_t *row0, const int8_t *row1, int32_t dy, const int32_t *lower,
                               const int32_t *upper, const int32_t *fractions, int columns, int depth, int8_t *out,
                               ck_isa isa);

// ---- Fused 8-bit convolution chains (chain_q.c, FusedQuantizedChain.swift) ----

/// A 1x1 stride-1 8-bit convolution as ck_conv_q takes it, `window` covering the whole image.
typedef struct {
    ck_window window;
    const int8_t *packed;
    int n;
    const int32_t *column_terms;
    int32_t row_sum_factor;
    const ck_requant *rq;
    int narrow;
} ck_pointwise_q;

/// An 8-bit depthwise convolution as ck_depthwise_q takes it.
typedef struct {
    ck_window window;
    const int32_t *filter;
    const ck_requant *rq;
} ck_depthwise_q_layer;

/// [expand] -> depthwise -> [project] run in bands of `band_rows` depthwise output rows.
typedef struct {
    const ck_pointwise_q *expand;   /// NULL: the depthwise reads the chain's input
    ck_depthwise_q_layer depthwise;
    const ck_pointwise_q *project;  /// NULL: the depthwise writes the chain's output
    int band_rows;
} ck_chain_q;

/// Bytes of scratch one concurrent ck_chain_q call needs.
size_t ck_chain_q_scratch_size(const ck_chain_q *c);
/// The chain's output for depthwise output rows [row_begin, row_end) (one image), bit-identical to
/// running its layers one by one with ck_conv_q and ck_depthwise_q.
void ck_chain_q_rows(const ck_chain_q *c, const void *input, void *output, int row_begin, int row_end, uint8_t *scratch);
/// This thread's scratch of at least `bytes` (64-byte aligned, kept for the thread's life), NULL if out of memory.
uint8_t *ck_chain_q_thread_scratch(size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
