// Depthwise convolution (multiplier 1). Portable: each output pixel accumulates its taps channel-wise into
// the output row, a loop the compiler vectorizes across channels. AVX2 and AVX-512: explicit 8- and
// 16-channel vectors with the 3x3 taps unrolled, in one of two orders (tiled for stride-1 inputs that stay
// in L2, else pixel order). The best path for the CPU is picked at run time.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif


static void depthwise_portable(const float *input, const ck_window *w, const float *filter, const float *bias,
                               float *output, float lo, float hi, int row_begin, int row_end) {
    const int channels = w->channels;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) {
            float *restrict out = output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c++) out[c] = 0.0f;
            for (int fy = 0; fy < w->filter_height; fy++) {
                int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
                if (iy < 0 || iy >= w->input_height) continue;
                for (int fx = 0; fx < w->filter_width; fx++) {
                    int ix = ox * w->stride_width - w->pad_left + fx * w->dilation_width;
                    if (ix < 0 || ix >= w->input_width) continue;
                    const float *restrict x = input + ((size_t)iy * w->input_width + ix) * channels;
                    const float *restrict f = filter + ((size_t)fy * w->filter_width + fx) * channels;
                    for (int c = 0; c < channels; c++) out[c] += x[c] * f[c];
                }
            }
            for (int c = 0; c < channels; c++) {
                float y = out[c] + bias[c];
                y = y < lo ? lo : y;
                out[c] = y > hi ? hi : y;
            }
        }
    }
}

#if defined(__x86_64__)
// One output pixel, all channels, through the general tap loop (any window, bounds checked): the border
// pixels of the AVX2 and AVX-512 pixel orders, a loop over the channels the compiler vectorizes for each,
// the pixel's output staying in L1. Bias first, then the taps in order, fused, as in their unrolled paths.
__attribute__((always_inline))
static inline void pixel_all_channels(const float *input, const ck_window *w, const float *filter, const float *bias,
                                       float *restrict out, int iy0, int ix0, float lo, float hi) {
    const int channels = w->channels;
    for (int c = 0; c < channels; c++) out[c] = bias[c];
    for (int fy = 0; fy < w->filter_height; fy++) {
        int iy = iy0 + fy * w->dilation_height;
        if (iy < 0 || iy >= w->input_height) continue;
        for (int fx = 0; fx < w->filter_width; fx++) {
            int ix = ix0 + fx * w->dilation_width;
            if (ix < 0 || ix >= w->input_width) continue;
            const float *restrict x = input + ((ptrdiff_t)iy * w->input_width + ix) * channels;
            const float *restrict f = filter + ((size_t)fy * w->filter_width + fx) * channels;
            for (int c = 0; c < channels; c++) out[c] = __builtin_fmaf(x[c], f[c], out[c]);
        }
    }
    for (int c = 0; c < channels; c++) {
        float y = out[c] < lo ? lo : out[c];
        out[c] = y > hi ? hi : y;
    }
}

// Output rows [oy, oy + rows) in pixel order (`rows` 2 only when both rows' windows lie inside the image
// vertically, `rows_inside` when the first's does), for one instruction set.
typedef void (*pixel_rows_fn)(const float *input, const ck_window *w, const float *filter, const float *bias,
                              float *output, float lo, float hi, int oy, int rows, int rows_inside);

// The pixel order's walk, the same for AVX2 and AVX-512: rows [row_begin, row_end), two at a time where
// both lie inside the image. Two rows read the input rows they share once (at stride 1 four input rows
// instead of six, at stride 2 five instead of six); in the fused chains, whose depthwise input comes from
// L2, that is the limit: `conv_f32_ab.sh REV avx512 15 band` puts two rows at 0.70-0.84x the time of one
// on the person chains' bands. (Software prefetches of the next rows, which this path had, made it slower
// on every person layer, from L2 or L3: 0.77-0.98x without.)
static void rows_pixel_walk(const float *input, const ck_window *w, const float *filter, const float *bias,
                            float *output, float lo, float hi, int row_begin, int row_end, pixel_rows_fn pixel_rows) {
    const int unrolled3x3 = w->filter_height == 3 && w->filter_width == 3 && w->dilation_height == 1
        && w->dilation_width == 1;
    for (int oy = row_begin; oy < row_end;) {
        const int iy0 = oy * w->stride_height - w->pad_top;
        const int rows_inside = unrolled3x3 && iy0 >= 0 && iy0 + 2 < w->input_height;
        const int rows = rows_inside && oy + 1 < row_end && iy0 + w->stride_height + 2 < w->input_height ? 2 : 1;
        pixel_rows(input, w, filter, bias, output, lo, hi, oy, rows, rows_inside);
        oy += rows;
    }
}

// The tiled order (described at its AVX-512 kernels below), shared by AVX2 and AVX-512.
#define TILE_FLOATS 6144  // 24 KB per ring: half of a 48 KB L1, the rest for the output lines and filters

// Channels per group for a padded row width: as many blocks of `lanes` channels as fit three rows in the
// ring.
static int tile_group_channels(int channels, int padded_width, int lanes) {
    int blocks = TILE_FLOATS / (3 * padded_width * lanes);
    int all = (channels + lanes - 1) / lanes;
    return (blocks < all ? blocks : all) * lanes;
}

static int tile_fits(const ck_window *w, int lanes) {
    return w->filter_height == 3 && w->filter_width == 3 && w->dilation_height == 1 && w->dilation_width == 1
        && w->stride_height == 1 && w->stride_width == 1
        && tile_group_channels(lanes, w->output_width + 2, lanes) >= lanes;
}

// Inputs at least this large (beyond what stays in the 2 MB L2 next to the output) take pixel order, which
// the hardware prefetcher follows: the tiled order reads the whole input once per group of channel blocks
// (on AVX2 150x150x32 took 3.6x as long tiled). Below it the tiled order is ~2x faster on the 19x19 and
// smaller person layers and 0.95-1.05x slower than pixel order on the 38x38x192 one
// (benchmarks/speed/conv_f32_ab.sh).
#define TILE_INPUT_BYTES (1u << 20)

static int takes_tiled_order(const ck_window *w, int lanes) {
    const size_t input_bytes = (size_t)w->input_height * w->input_width * w->channels * sizeof(float);
    return input_bytes < TILE_INPUT_BYTES && tile_fits(w, lanes);
}

// The ring slot of padded row r (which may be -1): three consecutive rows never share one.
static inline int tile_slot(int row) { return ((row % 3) + 3) % 3; }

// One depthwise call's arguments, for the tiled order's per-instruction-set parts.
typedef struct {
    const float *input, *filter, *bias;
    float *output;
    float lo, hi;
} tile_job;

// Copies padded row `row` of the image (zeros outside it) for channels [c_begin, c_begin + group) into
// ring slot `slot` of each channel block's rows (layout [block][slot][padded column][lanes]), padded
// column px being image column px - pad_left.
typedef void (*tile_fill_fn)(const float *input, const ck_window *w, int row, int c_begin, int group,
                             int padded_width, int slot, float *ring);
// One output row of the channel block starting at c0, from its three ring rows.
typedef void (*tile_block_row_fn)(const tile_job *job, const ck_window *w, const float *r0, const float *r1,
                                  const float *r2, int c0, float *out_row);

// The tiled order's walk, the same for every instruction set: for each group of channel blocks, output
// rows [row_begin, row_end) in order, copying each padded input row once.
static void rows_tiled_walk(const tile_job *job, const ck_window *w, int row_begin, int row_end, int lanes,
                            tile_fill_fn fill, tile_block_row_fn block_row) {
    const int channels = w->channels, padded_width = w->output_width + 2;
    const int group = tile_group_channels(channels, padded_width, lanes);
    const ptrdiff_t row_floats = (ptrdiff_t)padded_width * lanes, block_floats = 3 * row_floats;
    float ring[TILE_FLOATS] __attribute__((aligned(64)));
    for (int c_begin = 0; c_begin < channels; c_begin += group) {
        int loaded = row_begin - w->pad_top;  // one past the last padded row copied
        for (int oy = row_begin; oy < row_end; oy++) {
            const int iy0 = oy - w->pad_top;
            for (; loaded < iy0 + 3; loaded++)
                fill(job->input, w, loaded, c_begin, group, padded_width, tile_slot(loaded), ring);
            const float *r0 = ring + tile_slot(iy0) * row_floats, *r1 = ring + tile_slot(iy0 + 1) * row_floats,
                        *r2 = ring + tile_slot(iy0 + 2) * row_floats;
            float *out_row = job->output + (size_t)oy * w->output_width * channels;
            for (int c = 0; c < group && c_begin + c < channels; c += lanes) {
                const ptrdiff_t block = (c / lanes) * block_floats;
                block_row(job, w, r0 + block, r1 + block, r2 + block, c_begin + c, out_row);
            }
        }
    }
}

// AVX2: the tiled order with 8-channel blocks. Sixteen registers hold the four accumulators, the input
// columns and one filter tap at a time, so the filter is read from L1 for each tap.
__attribute__((target("avx2"), always_inline))
static inline __m256i lanes_below(int remaining) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(remaining), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma"), always_inline))
static inline void tile_pixels_avx2(const float *r0, const float *r1, const float *r2, int n, const float *f,
                                    __m256 b, __m256 low, __m256 high, __m256i m, float *out, ptrdiff_t pixel) {
    __m256 acc[4] = {b, b, b, b};
    const float *rows[3] = {r0, r1, r2};
    #pragma clang loop unroll(full)
    for (int fy = 0; fy < 3; fy++) {
        __m256 column[6];
        #pragma clang loop unroll(full)
        for (int i = 0; i < n + 2; i++) column[i] = _mm256_load_ps(rows[fy] + i * 8);
        #pragma clang loop unroll(full)
        for (int fx = 0; fx < 3; fx++) {
            const __m256 tap = _mm256_load_ps(f + (fy * 3 + fx) * 8);
            #pragma clang loop unroll(full)
            for (int p = 0; p < n; p++) acc[p] = _mm256_fmadd_ps(column[p + fx], tap, acc[p]);
        }
    }
    #pragma clang loop unroll(full)
    for (int p = 0; p < n; p++)
        _mm256_maskstore_ps(out + p * pixel, m, _mm256_min_ps(_mm256_max_ps(acc[p], low), high));
}

// A tile_fill_fn for 8-channel blocks.
__attribute__((target("avx2,fma")))
static void tile_fill_row_avx2(const float *input, const ck_window *w, int row, int c_begin, int group,
                               int padded_width, int slot, float *ring) {
    const int channels = w->channels;
    const ptrdiff_t block_floats = (ptrdiff_t)3 * padded_width * 8;
    float *first = ring + (ptrdiff_t)slot * padded_width * 8;
    for (int px = 0; px < padded_width; px++) {
        const int ix = px - w->pad_left;
        float *dst = first + px * 8;
        if (row < 0 || row >= w->input_height || ix < 0 || ix >= w->input_width) {
            for (int c = 0; c < group; c += 8, dst += block_floats) _mm256_store_ps(dst, _mm256_setzero_ps());
            continue;
        }
        const float *src = input + ((ptrdiff_t)row * w->input_width + ix) * channels + c_begin;
        for (int c = 0; c < group; c += 8, dst += block_floats)
            _mm256_store_ps(dst, _mm256_maskload_ps(src + c, lanes_below(channels - c_begin - c)));
    }
}

// A tile_block_row_fn for 8-channel blocks.
__attribute__((target("avx2,fma")))
static void tile_block_row_avx2(const tile_job *job, const ck_window *w, const float *r0, const float *r1,
                                const float *r2, int c0, float *out_row) {
    const ptrdiff_t pixel = w->channels;
    const __m256 low = _mm256_set1_ps(job->lo), high = _mm256_set1_ps(job->hi);
    const __m256i m = lanes_below(w->channels - c0);
    const __m256 b = _mm256_maskload_ps(job->bias + c0, m);
    float f[9 * 8] __attribute__((aligned(32)));
    for (int t = 0; t < 9; t++)
        _mm256_store_ps(f + t * 8, _mm256_maskload_ps(job->filter + (size_t)t * w->channels + c0, m));
    float *out = out_row + c0;
    int ox = 0;
    for (; ox + 4 <= w->output_width; ox += 4)
        tile_pixels_avx2(r0 + ox * 8, r1 + ox * 8, r2 + ox * 8, 4, f, b, low, high, m, out + ox * pixel, pixel);
    const float *a0 = r0 + ox * 8, *a1 = r1 + ox * 8, *a2 = r2 + ox * 8;
    switch (w->output_width - ox) {
    case 3: tile_pixels_avx2(a0, a1, a2, 3, f, b, low, high, m, out + ox * pixel, pixel); break;
    case 2: tile_pixels_avx2(a0, a1, a2, 2, f, b, low, high, m, out + ox * pixel, pixel); break;
    case 1: tile_pixels_avx2(a0, a1, a2, 1, f, b, low, high, m, out + ox * pixel, pixel); break;
    default: break;
    }
}

// AVX2 pixel order, for the layers the tiled order does not take (stride 2, inputs beyond L2, other
// windows): the AVX-512 pixel order below with 8-channel blocks. Sixteen registers cannot hold the
// filter, so each tap is read from L1 as the multiply-add's memory operand, and each input column is
// loaded once and added to every output it reaches before the next is loaded. `masked` (a compile-time
// constant) is 0 for a full 8-channel block, which then takes plain loads and stores; the last block
// of a layer whose channels are not a multiple of 8 is masked, its taps too (the last one would read
// past the filter).
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 load8(const float *p, __m256i m, int masked) {
    return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

__attribute__((target("avx2,fma"), always_inline))
static inline void store8(float *p, __m256i m, int masked, __m256 v) {
    if (masked) _mm256_maskstore_ps(p, m, v);
    else _mm256_storeu_ps(p, v);
}

// Four horizontally adjacent interior pixels of `rows` (1 or 2) output rows; tap t of the block is at
// f + t * pixel. The taps are added in the same order as on AVX-512 (by filter row, then column).
__attribute__((target("avx2,fma"), always_inline))
static inline void quad_3x3_avx2(const float *x, ptrdiff_t line, ptrdiff_t pixel, int stride, int rows, int masked,
                                 __m256i m, const float *f, __m256 b, __m256 low, __m256 high, float *out,
                                 ptrdiff_t out_line) {
    __m256 acc[2][4] = {{b, b, b, b}, {b, b, b, b}};
    #pragma clang loop unroll(full)
    for (int r = 0; r < stride * (rows - 1) + 3; r++) {
        #pragma clang loop unroll(full)
        for (int i = 0; i < 3 * stride + 3; i++) {
            const __m256 column = load8(x + r * line + i * pixel, m, masked);
            #pragma clang loop unroll(full)
            for (int o = 0; o < rows; o++) {
                const int fy = r - o * stride;
                #pragma clang loop unroll(full)
                for (int p = 0; p < 4; p++) {
                    const int fx = i - p * stride;
                    if (fy < 0 || fy > 2 || fx < 0 || fx > 2) continue;
                    acc[o][p] = _mm256_fmadd_ps(column, load8(f + (fy * 3 + fx) * pixel, m, masked), acc[o][p]);
                }
            }
        }
    }
    #pragma clang loop unroll(full)
    for (int o = 0; o < rows; o++) {
        #pragma clang loop unroll(full)
        for (int p = 0; p < 4; p++)
            store8(out + o * out_line + p * pixel, m, masked, _mm256_min_ps(_mm256_max_ps(acc[o][p], low), high));
    }
}

// A pixel_rows_fn for 8-channel blocks: all channel blocks of a pixel (or four) before the next.
__attribute__((target("avx2,fma")))
static void pixel_rows_avx2(const float *input, const ck_window *w, const float *filter, const float *bias,
                            float *output, float lo, float hi, int oy, int rows, int rows_inside) {
    const int channels = w->channels, sw = w->stride_width, full = channels / 8 * 8;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    const ptrdiff_t out_line = (ptrdiff_t)w->output_width * channels;
    const int iy0 = oy * w->stride_height - w->pad_top;
    const __m256i all = lanes_below(8), tail = lanes_below(channels - full);
    const __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    float *out_row = output + (size_t)oy * out_line;
    const float *row = input + (ptrdiff_t)iy0 * line;
    for (int ox = 0; ox < w->output_width;) {
        const int ix0 = ox * sw - w->pad_left;
        const int quad = rows_inside && ix0 >= 0 && ox + 3 < w->output_width && ix0 + 3 * sw + 2 < w->input_width
            && sw <= 2;
        float *out = out_row + (size_t)ox * channels;
        if (quad) {
            const float *x = row + ix0 * pixel;
            #define QUAD_AVX2(stride, rows, masked, m, c0) \
                quad_3x3_avx2(x + (c0), line, pixel, stride, rows, masked, m, filter + (c0), \
                              _mm256_maskload_ps(bias + (c0), m), low, high, out + (c0), out_line)
            #define QUADS_AVX2(stride, rows) do { \
                for (int c0 = 0; c0 < full; c0 += 8) QUAD_AVX2(stride, rows, 0, all, c0); \
                if (full < channels) QUAD_AVX2(stride, rows, 1, tail, full); \
            } while (0)
            if (rows == 2) { if (sw == 1) QUADS_AVX2(1, 2); else QUADS_AVX2(2, 2); }
            else { if (sw == 1) QUADS_AVX2(1, 1); else QUADS_AVX2(2, 1); }
            #undef QUADS_AVX2
            #undef QUAD_AVX2
            ox += 4;
            continue;
        }
        for (int o = 0; o < rows; o++)
            pixel_all_channels(input, w, filter, bias, out + o * out_line, iy0 + o * w->stride_height, ix0, lo, hi);
        ox++;
    }
}

__attribute__((target("avx2,fma")))
static void depthwise_avx2(const float *input, const ck_window *w, const float *filter, const float *bias,
                           float *output, float lo, float hi, int row_begin, int row_end) {
    if (takes_tiled_order(w, 8)) {
        const tile_job job = {input, filter, bias, output, lo, hi};
        rows_tiled_walk(&job, w, row_begin, row_end, 8, tile_fill_row_avx2, tile_block_row_avx2);
    } else {
        rows_pixel_walk(input, w, filter, bias, output, lo, hi, row_begin, row_end, pixel_rows_avx2);
    }
}

// AVX-512: 16 channels per vector (the last block masked). Two orders: stride-1 inputs that stay in L2 go
// through a zero-padded copy in L1 (rows_tiled_walk); larger ones, and stride 2, are read in pixel order
// straight from the input, where pixels whose window lies inside the image take unrolled 3x3 paths
// without bounds checks, four at a time where they can (neighbouring windows share input columns, loaded
// once), and border pixels take the general tap loop.

static inline __mmask16 channel_mask(int remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
}

// Four horizontally adjacent interior pixels of `rows` (1 or 2) vertically adjacent output rows; `stride`
// (1 or 2) and `rows` are compile-time constants at each call. Two rows share the input rows between them
// (one of five at stride 2, two of four at stride 1), so each is read once from L2 for both.
__attribute__((target("avx512f"), always_inline))
static inline void quad_3x3(const float *x, ptrdiff_t line, ptrdiff_t pixel, int stride, int rows, __mmask16 m,
                            const __m512 *f, __m512 b, __m512 low, __m512 high, float *out, ptrdiff_t out_line) {
    __m512 acc[2][4] = {{b, b, b, b}, {b, b, b, b}};
    #pragma clang loop unroll(full)
    for (int r = 0; r < stride * (rows - 1) + 3; r++) {
        __m512 column[9];
        #pragma clang loop unroll(full)
        for (int i = 0; i < 3 * stride + 3; i++) column[i] = _mm512_maskz_loadu_ps(m, x + r * line + i * pixel);
        #pragma clang loop unroll(full)
        for (int o = 0; o < rows; o++) {
            const int fy = r - o * stride;
            if (fy < 0 || fy > 2) continue;
            #pragma clang loop unroll(full)
            for (int p = 0; p < 4; p++) {
                #pragma clang loop unroll(full)
                for (int fx = 0; fx < 3; fx++)
                    acc[o][p] = _mm512_fmadd_ps(column[p * stride + fx], f[fy * 3 + fx], acc[o][p]);
            }
        }
    }
    #pragma clang loop unroll(full)
    for (int o = 0; o < rows; o++) {
        #pragma clang loop unroll(full)
        for (int p = 0; p < 4; p++)
            _mm512_mask_storeu_ps(out + o * out_line + p * pixel, m, _mm512_min_ps(_mm512_max_ps(acc[o][p], low), high));
    }
}

// One output pixel's 16-channel block whose 3x3 window lies inside the image. `filter` points at tap 0.
__attribute__((target("avx512f"), always_inline))
static inline __m512 pixel_block(const float *input, const ck_window *w, const float *filter, int iy0, int ix0,
                                 int c0, __mmask16 m, __m512 acc) {
    const int channels = w->channels;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    const float *x = input + (ptrdiff_t)iy0 * line + ix0 * pixel + c0;
    for (int t = 0; t < 9; t++)
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + (t / 3) * line + (t % 3) * pixel),
                              _mm512_maskz_loadu_ps(m, filter + (size_t)t * channels + c0), acc);
    return acc;
}

// A pixel_rows_fn for 16-channel blocks: all channel blocks of a pixel (or four) before the next, reloading
// the filter from L1. The input rows are then read in address order, which the hardware prefetcher
// follows, where a channel block at a time touches one line in every `channels / 16`. Measured with
// benchmarks/speed/conv_f32_ab.sh: 0.65-0.75x the time of channel-block order on the 150x150x32 and
// 38x38x192 stride-1 layers and the 150x150x96 and 19x19x576 stride-2 ones.
__attribute__((target("avx512f")))
static void pixel_rows_avx512(const float *input, const ck_window *w, const float *filter, const float *bias,
                              float *output, float lo, float hi, int oy, int rows, int rows_inside) {
    const int channels = w->channels;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    const ptrdiff_t out_line = (ptrdiff_t)w->output_width * channels;
    const int sw = w->stride_width;
    const int iy0 = oy * w->stride_height - w->pad_top;
    float *out_row = output + (size_t)oy * out_line;
    const float *row = input + (ptrdiff_t)iy0 * line;
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int ox = 0; ox < w->output_width;) {
        const int ix0 = ox * sw - w->pad_left;
        const int inside = rows_inside && ix0 >= 0 && ix0 + 2 < w->input_width;
        const int quad = inside && ox + 3 < w->output_width && ix0 + 3 * sw + 2 < w->input_width && sw <= 2;
        if (!inside) {
            for (int o = 0; o < rows; o++)
                pixel_all_channels(input, w, filter, bias, out_row + o * out_line + (size_t)ox * channels,
                                   iy0 + o * w->stride_height, ix0, lo, hi);
            ox++;
            continue;
        }
        for (int c0 = 0; c0 < channels; c0 += 16) {
            const __mmask16 m = channel_mask(channels - c0);
            const __m512 b = _mm512_maskz_loadu_ps(m, bias + c0);
            float *out = out_row + (size_t)ox * channels + c0;
            if (quad) {
                __m512 f[9];
                for (int t = 0; t < 9; t++) f[t] = _mm512_maskz_loadu_ps(m, filter + (size_t)t * channels + c0);
                const float *x = row + ix0 * pixel + c0;
                if (rows == 2) {
                    if (sw == 1) quad_3x3(x, line, pixel, 1, 2, m, f, b, low, high, out, out_line);
                    else quad_3x3(x, line, pixel, 2, 2, m, f, b, low, high, out, out_line);
                } else {
                    if (sw == 1) quad_3x3(x, line, pixel, 1, 1, m, f, b, low, high, out, out_line);
                    else quad_3x3(x, line, pixel, 2, 1, m, f, b, low, high, out, out_line);
                }
                continue;
            }
            for (int o = 0; o < rows; o++) {
                __m512 acc = pixel_block(input, w, filter, iy0 + o * w->stride_height, ix0, c0, m, b);
                _mm512_mask_storeu_ps(out + o * out_line, m, _mm512_min_ps(_mm512_max_ps(acc, low), high));
            }
        }
        ox += quad ? 4 : 1;
    }
}

// 3x3 stride-1 windows through a small zero-padded copy of the input that stays in L1: for a group of
// channel blocks, the three padded input rows of an output row are held in a ring, and each block runs the
// whole output row with its filter in registers, four pixels at a time. The copy replaces the border
// paths (out-of-image taps read zeros, adding 0 * w, which leaves the sum as it is) and turns the strided
// per-pixel input lines of a channel block into L1 hits: each input line comes from L2 once per group.
// The ring's layout, [block][slot][padded column][16 floats], makes every tap a constant offset from
// three row pointers; with run-time steps clang kept one pointer per tap and spilled them. The taps are
// added in the same order as pixel order's, so the sums are the same. (Stride 2 measured no faster.)

// Pixels per step of a tiled row. A pixel's nine taps are one chain of dependent multiply-adds, so eight
// pixels keep eight chains in flight where four left the FMA units waiting on latency: conv_f32_ab.sh
// (warm) 0.90-0.95x on the 19x19 and 10x10x960 stride-1 layers, 1.02x (median 0.97x) on 10x10x1280;
// the same sums.
#define TILE_RUN 8
// `n` (1-TILE_RUN) horizontally adjacent output pixels of one 16-channel block from its ring rows.
__attribute__((target("avx512f"), always_inline))
static inline void tile_pixels(const float *r0, const float *r1, const float *r2, int n, const __m512 *f,
                               __m512 b, __m512 low, __m512 high, __mmask16 m, float *out, ptrdiff_t pixel) {
    __m512 acc[TILE_RUN] = {b, b, b, b, b, b, b, b};
    const float *rows[3] = {r0, r1, r2};
    #pragma clang loop unroll(full)
    for (int fy = 0; fy < 3; fy++) {
        __m512 column[TILE_RUN + 2];
        #pragma clang loop unroll(full)
        for (int i = 0; i < n + 2; i++) column[i] = _mm512_load_ps(rows[fy] + i * 16);
        #pragma clang loop unroll(full)
        for (int p = 0; p < n; p++) {
            #pragma clang loop unroll(full)
            for (int fx = 0; fx < 3; fx++) acc[p] = _mm512_fmadd_ps(column[p + fx], f[fy * 3 + fx], acc[p]);
        }
    }
    #pragma clang loop unroll(full)
    for (int p = 0; p < n; p++)
        _mm512_mask_storeu_ps(out + p * pixel, m, _mm512_min_ps(_mm512_max_ps(acc[p], low), high));
}

// One output row of one channel block.
__attribute__((target("avx512f"), always_inline))
static inline void tile_row(const float *r0, const float *r1, const float *r2, int output_width, const __m512 *f,
                            __m512 b, __m512 low, __m512 high, __mmask16 m, float *out, ptrdiff_t pixel) {
    int ox = 0;
    for (; ox + TILE_RUN <= output_width; ox += TILE_RUN)
        tile_pixels(r0 + ox * 16, r1 + ox * 16, r2 + ox * 16, TILE_RUN, f, b, low, high, m, out + ox * pixel, pixel);
    if (ox + 4 <= output_width) {
        tile_pixels(r0 + ox * 16, r1 + ox * 16, r2 + ox * 16, 4, f, b, low, high, m, out + ox * pixel, pixel);
        ox += 4;
    }
    const ptrdiff_t at = (ptrdiff_t)ox * 16;
    switch (output_width - ox) {
    case 3: tile_pixels(r0 + at, r1 + at, r2 + at, 3, f, b, low, high, m, out + ox * pixel, pixel); break;
    case 2: tile_pixels(r0 + at, r1 + at, r2 + at, 2, f, b, low, high, m, out + ox * pixel, pixel); break;
    case 1: tile_pixels(r0 + at, r1 + at, r2 + at, 1, f, b, low, high, m, out + ox * pixel, pixel); break;
    default: break;
    }
}

// A tile_fill_fn for 16-channel blocks.
__attribute__((target("avx512f")))
static void tile_fill_row(const float *input, const ck_window *w, int row, int c_begin, int group,
                          int padded_width, int slot, float *ring) {
    const int channels = w->channels;
    const ptrdiff_t block_floats = (ptrdiff_t)3 * padded_width * 16;
    float *first = ring + (ptrdiff_t)slot * padded_width * 16;
    const __m512 zero = _mm512_setzero_ps();
    for (int px = 0; px < padded_width; px++) {
        const int ix = px - w->pad_left;
        float *dst = first + px * 16;
        if (row < 0 || row >= w->input_height || ix < 0 || ix >= w->input_width) {
            for (int c = 0; c < group; c += 16, dst += block_floats) _mm512_store_ps(dst, zero);
            continue;
        }
        const float *src = input + ((ptrdiff_t)row * w->input_width + ix) * channels + c_begin;
        for (int c = 0; c < group; c += 16, dst += block_floats)
            _mm512_store_ps(dst, _mm512_maskz_loadu_ps(channel_mask(channels - c_begin - c), src + c));
    }
}

// A tile_block_row_fn for 16-channel blocks.
__attribute__((target("avx512f")))
static void tile_block_row(const tile_job *job, const ck_window *w, const float *r0, const float *r1,
                           const float *r2, int c0, float *out_row) {
    const __m512 low = _mm512_set1_ps(job->lo), high = _mm512_set1_ps(job->hi);
    const __mmask16 m = channel_mask(w->channels - c0);
    const __m512 b = _mm512_maskz_loadu_ps(m, job->bias + c0);
    __m512 f[9];
    for (int t = 0; t < 9; t++) f[t] = _mm512_maskz_loadu_ps(m, job->filter + (size_t)t * w->channels + c0);
    tile_row(r0, r1, r2, w->output_width, f, b, low, high, m, out_row + c0, w->channels);
}

__attribute__((target("avx512f")))
static void depthwise_avx512(const float *input, const ck_window *w, const float *filter, const float *bias,
                             float *output, float lo, float hi, int row_begin, int row_end) {
    if (takes_tiled_order(w, 16)) {
        const tile_job job = {input, filter, bias, output, lo, hi};
        rows_tiled_walk(&job, w, row_begin, row_end, 16, tile_fill_row, tile_block_row);
    } else {
        rows_pixel_walk(input, w, filter, bias, output, lo, hi, row_begin, row_end, pixel_rows_avx512);
    }
}
#endif

void ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                      float *output, float lo, float hi, int row_begin, int row_end, ck_isa isa) {
    switch (ck_supported_isa(isa)) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: depthwise_avx512(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
    case CK_ISA_AVX2_FMA: depthwise_avx2(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
#endif
    default: depthwise_portable(input, w, filter, bias, output, lo, hi, row_begin, row_end);
    }
}

int ck_depthwise_f32_copies_rows(const ck_window *w, ck_isa isa) {
#if defined(__x86_64__)
    switch (ck_supported_isa(isa)) {
    case CK_ISA_AVX512: return takes_tiled_order(w, 16);
    case CK_ISA_AVX2_FMA: return takes_tiled_order(w, 8);
    default: break;
    }
#endif
    (void)w;
    (void)isa;
    return 0;
}
