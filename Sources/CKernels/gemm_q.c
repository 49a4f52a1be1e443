// 8-bit convolution as a uint8 x int8 GEMM. Inputs are moved to the unsigned domain (int8 x -> x + 128)
// and weights to the signed one (uint8 w -> w - 128) so four products at a time go through one
// AVX-512 VNNI vpdpbusd (AVX2 and portable code widen to int16/int32 instead: vpmaddubsw could
// saturate). With u = x + dx and s = w + dw the reference's accumulator is
//   sum (u + A)(s + B) = sum u*s + B * sum u + A * sum s + K*A*B,   A = input offset - dx, B = filter offset - dw,
// exact in wrapping int32 arithmetic. Per channel, A * sum s + K*A*B + bias is precomputed; the row
// sums are needed only when B != 0 (uint8 filters with a zero point other than 128). Taps outside the
// image hold the input zero point (u = -A), so their terms cancel exactly, as TFLite skips them; k is
// padded to a multiple of 4 with zeros in both operands.
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "requantize_q.h"

#define TILE_ROWS 48
#define TILE_PANELS 4

static inline int panel_count(int n) { return (n + CK_PANEL_WIDTH - 1) / CK_PANEL_WIDTH; }
int ck_gemm_q_depth(int k) { return (k + 3) / 4 * 4; }
static inline size_t panel_bytes(int k) { return (size_t)ck_gemm_q_depth(k) * CK_PANEL_WIDTH; }
size_t ck_gemm_q_packed_count(int n, int k) { return (size_t)panel_count(n) * panel_bytes(k); }

static inline int32_t input_shift(int is_signed) { return is_signed ? 128 : 0; }
static inline int32_t filter_shift(int is_signed) { return is_signed ? 0 : -128; }
static inline int32_t wrapping_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t wrapping_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

int32_t ck_gemm_q_row_sum_factor(int is_signed, int32_t filter_offset) { return filter_offset - filter_shift(is_signed); }

int ck_gemm_q_padding(int is_signed, int32_t input_offset) { return input_shift(is_signed) - input_offset; }

void ck_gemm_q_pack(const void *weights, int is_signed, int32_t input_offset, int32_t filter_offset,
                    const int32_t *bias, int n, int k, int8_t *packed, int32_t *column_terms) {
    memset(packed, 0, ck_gemm_q_packed_count(n, k));
    memset(column_terms, 0, (size_t)panel_count(n) * CK_PANEL_WIDTH * sizeof(int32_t));
    const int32_t a = input_offset - input_shift(is_signed), b = ck_gemm_q_row_sum_factor(is_signed, filter_offset);
    for (int channel = 0; channel < n; channel++) {
        int8_t *panel = packed + (size_t)(channel / CK_PANEL_WIDTH) * panel_bytes(k);
        int lane = channel % CK_PANEL_WIDTH;
        int32_t sum = 0;
        for (int i = 0; i < k; i++) {
            size_t index = (size_t)channel * k + i;
            int32_t s = is_signed ? ((const int8_t *)weights)[index]
                                  : ((const uint8_t *)weights)[index] + filter_shift(is_signed);
            panel[(size_t)(i / 4) * 4 * CK_PANEL_WIDTH + lane * 4 + i % 4] = (int8_t)s;
            sum += s;
        }
        int32_t term = wrapping_add(wrapping_mul(a, sum), wrapping_mul(wrapping_mul(k, a), b));
        column_terms[channel] = wrapping_add(term, bias ? bias[channel] : 0);
    }
}

/// Sum of `length` bytes (the per-row input sums of the zero-point correction).
static uint32_t byte_sum_portable(const uint8_t *x, int length) {
    uint32_t sum = 0;
    for (int i = 0; i < length; i++) sum += x[i];
    return sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static uint32_t byte_sum_avx2(const uint8_t *x, int length) {
    __m256i acc = _mm256_setzero_si256();
    int i = 0;
    for (; i + 32 <= length; i += 32)  // vpsadbw against zero: sums of 8 bytes in each 64-bit lane
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(x + i)), _mm256_setzero_si256()));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    return (uint32_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]) + byte_sum_portable(x + i, length - i);
}
#endif

static inline uint32_t byte_sum(const uint8_t *x, int length, int avx2) {
#if defined(__x86_64__)
    if (avx2) return byte_sum_avx2(x, length);
#endif
    (void)avx2;
    return byte_sum_portable(x, length);
}

static inline uint64_t load_flipped8(const uint8_t *x, uint64_t flips) {
    uint64_t v;
    memcpy(&v, x, sizeof v);
    return v ^ flips;
}

static inline uint32_t load_flipped4(const uint8_t *x, uint32_t flips) {
    uint32_t v;
    memcpy(&v, x, sizeof v);
    return v ^ flips;
}

/// dst = x ^ flip byte by byte. Short runs (a first layer's filter row is 3 x 3 bytes) as two
/// overlapping words, no loop; long ones eight bytes at a time.
static inline void copy_flipped(uint8_t *dst, const uint8_t *x, int count, uint8_t flip) {
    const uint64_t flips = flip * 0x0101010101010101ull;
    if (count >= 8 && count <= 16) {
        uint64_t head = load_flipped8(x, flips), tail = load_flipped8(x + count - 8, flips);
        memcpy(dst, &head, sizeof head);
        memcpy(dst + count - 8, &tail, sizeof tail);
        return;
    }
    if (count >= 4 && count < 8) {
        uint32_t head = load_flipped4(x, (uint32_t)flips), tail = load_flipped4(x + count - 4, (uint32_t)flips);
        memcpy(dst, &head, sizeof head);
        memcpy(dst + count - 4, &tail, sizeof tail);
        return;
    }
    int c = 0;
    for (; c + 8 <= count; c += 8) {
        uint64_t v = load_flipped8(x + c, flips);
        memcpy(dst + c, &v, sizeof v);
    }
    for (; c < count; c++) dst[c] = x[c] ^ flip;
}

/// The im2col row of output pixel (oy, ox) in unsigned bytes: taps outside the image hold `padding`,
/// bytes past k up to `row_length` are zero.
static void gather_pixel(const uint8_t *input, const ck_window *w, int oy, int ox, uint8_t flip,
                                uint8_t padding, int row_length, uint8_t *dst) {
    const int channels = w->channels;
    uint8_t *const end = dst + row_length;
    const int ix0 = ox * w->stride_width - w->pad_left;
    const int row_inside = w->dilation_width == 1 && ix0 >= 0 && ix0 + w->filter_width <= w->input_width;
    for (int fy = 0; fy < w->filter_height; fy++) {
        int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
        const uint8_t *x_row = input + (size_t)iy * w->input_width * channels;
        if (row_inside && iy >= 0 && iy < w->input_height) {
            // The filter row's taps are adjacent in the input: one copy.
            copy_flipped(dst, x_row + (size_t)ix0 * channels, w->filter_width * channels, flip);
            dst += w->filter_width * channels;
            continue;
        }
        for (int fx = 0; fx < w->filter_width; fx++, dst += channels) {
            int ix = ix0 + fx * w->dilation_width;
            if (iy < 0 || iy >= w->input_height || ix < 0 || ix >= w->input_width)
                memset(dst, padding, (size_t)channels);
            else
                copy_flipped(dst, x_row + (size_t)ix * channels, channels, flip);
        }
    }
    while (dst < end) *dst++ = 0;  // at most 5 bytes (3-channel 3x3 rows are 32 bytes apart)
}

/// 3x3 windows over 3-channel images (every model's first layer) with stride 1 or 2: their im2col rows
/// are 27 bytes, stored 32 apart so the AVX-512 path below builds two of them in one vector.
static int rgb3x3_shape(const ck_window *w) {
    return w->channels == 3 && w->filter_height == 3 && w->filter_width == 3 && w->dilation_height == 1
        && w->dilation_width == 1 && (w->stride_width == 1 || w->stride_width == 2);
}

#define RGB3X3_ROW 32

/// The im2col rows of output pixels [pixel0, pixel0 + rows) into `rows_out`, `row_length` bytes apart.
static void gather_rows(const uint8_t *input, const ck_window *window, int pixel0, int rows, uint8_t flip,
                        uint8_t padding, int row_length, uint8_t *rows_out) {
    const ck_window w = *window;  // a local copy: the byte stores below could alias *window
    const int segment = w.filter_width * w.channels, k = w.filter_height * segment;
    const size_t input_row = (size_t)w.input_width * w.channels;
    const int dense = w.dilation_width == 1 && w.dilation_height == 1;
    int oy = pixel0 / w.output_width, ox = pixel0 % w.output_width;
    for (int r = 0; r < rows; r++) {
        uint8_t *dst = rows_out + (size_t)r * row_length;
        const int iy0 = oy * w.stride_height - w.pad_top, ix0 = ox * w.stride_width - w.pad_left;
        if (dense && iy0 >= 0 && iy0 + w.filter_height <= w.input_height && ix0 >= 0 && ix0 + w.filter_width <= w.input_width) {
            // The whole window inside the image: one run of taps per filter row.
            const uint8_t *x = input + (size_t)iy0 * input_row + (size_t)ix0 * w.channels;
            for (int fy = 0; fy < w.filter_height; fy++) copy_flipped(dst + fy * segment, x + fy * input_row, segment, flip);
            for (int i = k; i < row_length; i++) dst[i] = 0;
        } else {
            gather_pixel(input, &w, oy, ox, flip, padding, row_length, dst);
        }
        if (++ox == w.output_width) ox = 0, oy++;
    }
}

#if defined(__x86_64__)
/// The im2col rows of output pixels [pixel0, pixel0 + rows) of an rgb3x3_shape layer, RGB3X3_ROW bytes
/// apart. The byte copies of gather_rows cost as much as the layer's dot products; here two horizontally
/// adjacent interior pixels take one masked 16-byte load per filter row and one byte permute (vpermb)
/// into both rows, with the bytes past 27 zeroed by the permute's mask. Other pixels go through gather_pixel.
__attribute__((target(CK_AVX512_Q ",avx512vbmi")))
static void gather_rows_rgb3x3(const uint8_t *input, const ck_window *window, int pixel0, int rows, uint8_t flip,
                               uint8_t padding, uint8_t *rows_out) {
    const ck_window w = *window;
    const int step = w.stride_width * 3;             // bytes between the two pixels' windows
    const __mmask16 span = (__mmask16)((1u << (step + 9)) - 1);  // both windows' bytes of one filter row
    // Source vector: filter row fy's bytes at [16 fy, 16 fy + 16). Row j of the pair, byte b < 27 = tap
    // (fy, t) = (b / 9, b % 9) comes from 16 fy + j * step + t.
    uint8_t index[64];
    for (int i = 0; i < 64; i++) {
        int j = i / RGB3X3_ROW, b = i % RGB3X3_ROW;
        index[i] = (uint8_t)(b < 27 ? 16 * (b / 9) + j * step + b % 9 : 0);
    }
    const __m512i permutation = _mm512_loadu_si512(index);
    const __mmask64 taps = 0x07FFFFFF07FFFFFFull;
    const __m512i flips = _mm512_set1_epi8((char)flip);
    const size_t input_row = (size_t)w.input_width * 3;
    int oy = pixel0 / w.output_width, ox = pixel0 % w.output_width;
    for (int r = 0; r < rows;) {
        uint8_t *dst = rows_out + (size_t)r * RGB3X3_ROW;
        const int iy0 = oy * w.stride_height - w.pad_top, ix0 = ox * w.stride_width - w.pad_left;
        if (r + 1 < rows && ox + 1 < w.output_width && iy0 >= 0 && iy0 + 3 <= w.input_height && ix0 >= 0
            && ix0 + w.stride_width + 3 <= w.input_width) {
            const uint8_t *x = input + (size_t)iy0 * input_row + (size_t)ix0 * 3;
            __m512i source = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(span, x));
            source = _mm512_inserti32x4(source, _mm_maskz_loadu_epi8(span, x + input_row), 1);
            source = _mm512_inserti32x4(source, _mm_maskz_loadu_epi8(span, x + 2 * input_row), 2);
            source = _mm512_xor_si512(source, flips);
            _mm512_storeu_si512(dst, _mm512_maskz_permutexvar_epi8(taps, permutation, source));
            r += 2, ox += 2;
        } else {
            gather_pixel(input, &w, oy, ox, flip, padding, RGB3X3_ROW, dst);
            r++, ox++;
        }
        if (ox >= w.output_width) ox -= w.output_width, oy++;
    }
}

static int rgb3x3_vectorized(const ck_window *w) {
    return rgb3x3_shape(w) && ck_has_avx512_q() && __builtin_cpu_supports("avx512vbmi");
}
#else
static int rgb3x3_vectorized(const ck_window *w) { (void)w; return 0; }
#endif

/// What every block kernel needs besides its rows and panel range. `a` and `out` point at the block's
/// first row; `row_sums` is indexed from that row too.
typedef struct {
    const uint8_t *a;
    ptrdiff_t lda;
    const int32_t *row_sums;  // NULL when the factor is 0
    int32_t row_sum_factor;
    int k;
    const int8_t *packed;
    int n;
    const int32_t *column_terms;
    const ck_requant *rq;
    void *out;
    ptrdiff_t ldc;
    int narrow;               // accumulators proven small enough for the packed epilogue (narrow_epilogue_holds)
    int ties_clamped;         // narrow_ties_clamped: the narrow epilogue may skip its negative-value correction
} gemm_q_args;

static inline int32_t row_term(const gemm_q_args *g, int row) {
    return g->row_sums ? wrapping_mul(g->row_sums[row], g->row_sum_factor) : 0;
}

static void block_portable_q(const gemm_q_args *g, int rows, int panel0, int panel1) {
    const int quads = ck_gemm_q_depth(g->k) / 4;
    for (int row = 0; row < rows; row++) {
        const uint8_t *x = g->a + (ptrdiff_t)row * g->lda;
        for (int p = panel0; p < panel1; p++) {
            const int8_t *panel = g->packed + (size_t)p * panel_bytes(g->k);
            int32_t acc[CK_PANEL_WIDTH];
            for (int j = 0; j < CK_PANEL_WIDTH; j++)
                acc[j] = wrapping_add(g->column_terms[p * CK_PANEL_WIDTH + j], row_term(g, row));
            for (int q = 0; q < quads; q++)
                for (int j = 0; j < CK_PANEL_WIDTH; j++)
                    for (int e = 0; e < 4; e++)
                        acc[j] += (int32_t)x[4 * q + e] * panel[(size_t)q * 4 * CK_PANEL_WIDTH + 4 * j + e];
            int cols = g->n - p * CK_PANEL_WIDTH;
            requantize_store_scalar(acc, g->rq, (char *)g->out + (ptrdiff_t)row * g->ldc, p * CK_PANEL_WIDTH,
                                    cols < CK_PANEL_WIDTH ? cols : CK_PANEL_WIDTH);
        }
    }
}

/// The most an accumulator can differ from its channel's column term: |u * s| <= 255 * 128 for each of the
/// k products, and the row term is at most k * 255 * |factor|.
static inline int64_t input_part(int k, int32_t row_sum_factor) {
    return (int64_t)k * (255 * 128 + 255 * (int64_t)llabs(row_sum_factor));
}

/// Whether every accumulator of this layer provably satisfies |acc| < 2^30 and every channel has a right
/// shift only, a non-negative significand and |requantized + output offset| far from int32 limits: then
/// the VNNI kernel may requantize with one rounding add and saturating packs (requantize_q.h, narrow16).
static int narrow_epilogue_holds(const gemm_q_args *g) {
    if (!narrow_clamp_fits(g->rq)) return 0;
    const int64_t part = input_part(g->k, g->row_sum_factor);
    for (int c = 0; c < g->n; c++)
        if (!narrow_channel_fits(g->rq, c, llabs((int64_t)g->column_terms[c]) + part)) return 0;
    return 1;
}

#if defined(__x86_64__)
// Rows of a two-panel tile (12 accumulators) and of a one-panel tile (8). Taller tiles (12 and 24 rows,
// 24 accumulators) leave too few registers for the epilogue's per-channel constants: the accumulators
// then go through the stack, which cost up to 40% on the small-K expand layers (conv_q_bench.c, AMD Zen 4).
#define MR_VNNI 6
#define MR_VNNI_MAX 8
#define MR_AVX2 2

static inline void row_pointers(const gemm_q_args *g, int rows, int count, const uint8_t **ap) {
    for (int r = 0; r < count; r++) ap[r] = g->a + (ptrdiff_t)(r < rows ? r : rows - 1) * g->lda;
}

/// requantize16 for 16 channels with no left shift and no INT32_MIN significand (as TFLite's
/// QuantizeMultiplier gives for multipliers below one, i.e. nearly every layer): the shift by zero and
/// the INT32_MIN * INT32_MIN saturation are then no-ops, skipped in this small-K-dominant epilogue.
__attribute__((target(CK_AVX512_Q)))
static inline __m512i requantize16_right_only(__m512i x, __m512i odd_significand, const requant16_channels *c,
                                              const ck_requant *rq) {
    const __m512i nudge = _mm512_set1_epi64(1LL << 30);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, c->significand), nudge);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), odd_significand), nudge);
    __m512i high = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
    return requantize16_finish(high, c, rq);
}

__attribute__((target(CK_AVX512_Q)))
static inline int right_shift_only(const requant16_channels *c) {
    return _mm512_test_epi32_mask(c->left, c->left) == 0
        && _mm512_cmpeq_epi32_mask(c->significand, _mm512_set1_epi32(INT32_MIN)) == 0;
}

/// Stores the 16-byte chunks of `bytes` (chunk j: row `row + j / per_row`, panel `j % per_row` of the
/// tile) that hold real rows; one 64-byte store when those rows are contiguous and complete.
__attribute__((target(CK_AVX512_Q)))
static inline void store_chunks(const gemm_q_args *g, __m512i bytes, int row, int rows, int first, int per_row) {
    const int cols = g->n - first, width = per_row * CK_PANEL_WIDTH;
    char *out = (char *)g->out + (ptrdiff_t)row * g->ldc + first;
    const int group = 4 / per_row;
    if (row + group <= rows && g->ldc == width && cols >= width) {
        _mm512_storeu_si512(out, bytes);
        return;
    }
    if (per_row == 2) {
        __mmask32 lanes = cols >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << cols) - 1);
        _mm256_mask_storeu_epi8(out, lanes, _mm512_castsi512_si256(bytes));
        if (row + 1 < rows) _mm256_mask_storeu_epi8(out + g->ldc, lanes, _mm512_extracti64x4_epi64(bytes, 1));
        return;
    }
    __mmask16 lanes = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    _mm_mask_storeu_epi8(out, lanes, _mm512_castsi512_si128(bytes));
    if (row + 1 < rows) _mm_mask_storeu_epi8(out + g->ldc, lanes, _mm512_extracti32x4_epi32(bytes, 1));
    if (row + 2 < rows) _mm_mask_storeu_epi8(out + 2 * g->ldc, lanes, _mm512_extracti32x4_epi32(bytes, 2));
    if (row + 3 < rows) _mm_mask_storeu_epi8(out + 3 * g->ldc, lanes, _mm512_extracti32x4_epi32(bytes, 3));
}

/// The narrow requantization of a tile's accumulators, four vectors at a time (two rows of two panels, or
/// four rows of one) packed to 64 bytes.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void narrow_epilogue(const gemm_q_args *g, const __m512i *acc0, const __m512i *acc1, int row, int rows,
                                   int first, const int width, const int mr, const narrow16_channels *narrow0,
                                   const narrow16_channels *narrow1, const int ties_clamped) {
    const narrow16_channels c0 = *narrow0, c1 = *narrow1;
    const int group = 4 / width;
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r += group) {
        if (r >= rows) continue;
        __m512i v[4];
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++) {
            int rr = r + j / width;
            v[j] = width == 2 ? narrow16(j % 2 ? acc1[rr] : acc0[rr], j % 2 ? &c1 : &c0, ties_clamped)
                              : narrow16(acc0[rr], &c0, ties_clamped);
        }
        store_chunks(g, pack64_clamped(v, g->rq), row + r, row + rows, first, width);
    }
}

/// The narrow epilogue of a tile whose second panel holds 8 channels or fewer (a 24-channel layer's, or the
/// last pair of any n = 16 m + 1...8): two rows' second-panel accumulators (8 lanes each, `vpdpbusd` on
/// 256 bits) share one vector, so two rows take three requantizations, not four. `paired` holds that
/// panel's constants for lanes 0-7 and again for 8-15.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void narrow_epilogue_half(const gemm_q_args *g, const __m512i *acc0, const __m512i *acc1, int row,
                                        int rows, int first, const int mr, const narrow16_channels *narrow0,
                                        const narrow16_channels *paired, const int ties_clamped) {
    const narrow16_channels c0 = *narrow0, c1 = *paired;
    const int cols = g->n - first;  // 17...24
    const __mmask32 lanes = (__mmask32)((1u << cols) - 1);
    // After the packs, dword j of 128-bit lane L holds for j = 0 row r's channels 4L...4L+3, for j = 1 row
    // r + 1's, for j = 2 channels 16 + 4(L % 2)... of row r (L < 2) or r + 1 (L >= 2).
    const __m512i first_row = _mm512_setr_epi32(0, 4, 8, 12, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i second_row = _mm512_setr_epi32(1, 5, 9, 13, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const ck_requant *rq = g->rq;
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r += 2) {
        if (r >= rows) continue;
        const __m512i v0 = narrow16(acc0[r], &c0, ties_clamped), v1 = narrow16(acc0[r + 1], &c0, ties_clamped);
        const __m512i v2 = narrow16(_mm512_inserti64x4(acc1[r], _mm512_castsi512_si256(acc1[r + 1]), 1), &c1, ties_clamped);
        const __m512i bytes = pack_words_clamped(_mm512_packs_epi32(v0, v1), _mm512_packs_epi32(v2, v2), rq, rq->is_signed);
        char *out = (char *)g->out + (ptrdiff_t)(row + r) * g->ldc + first;
        _mm256_mask_storeu_epi8(out, lanes, _mm512_castsi512_si256(_mm512_permutexvar_epi32(first_row, bytes)));
        if (r + 1 < rows)
            _mm256_mask_storeu_epi8(out + g->ldc, lanes, _mm512_castsi512_si256(_mm512_permutexvar_epi32(second_row, bytes)));
    }
}

/// One register tile: `mr` rows (`rows` of them real) times `width` (1 or 2) 16-channel panels from panel
/// p. Inlined with constant mr and width so the accumulators stay in registers; a lone panel gets its
/// own shape (8 rows x 1 panel) instead of being computed twice and half discarded. `half`: the second
/// panel holds 8 channels or fewer, accumulated on 256 bits (narrow_epilogue_half).
__attribute__((target(CK_AVX512_Q ",avx512vnni"), always_inline))
static inline void tile_vnni_q(const gemm_q_args *g, int row, int rows, int p, const int width, const int mr,
                               const int half, const narrow16_channels *narrow0, const narrow16_channels *narrow1) {
    const int quads = ck_gemm_q_depth(g->k) / 4;
    const size_t stride = panel_bytes(g->k);
    const uint8_t *ap[MR_VNNI_MAX];
    row_pointers(g, rows, mr, ap);
    for (int r = 0; r < mr; r++) ap[r] += (ptrdiff_t)row * g->lda;
    const int8_t *w0 = g->packed + (size_t)p * stride, *w1 = width == 2 ? w0 + stride : w0;
    const int first = p * CK_PANEL_WIDTH, cols = g->n - first;
    // The accumulators start at the per-channel (and per-row) corrections: wrapping int32 sums, so
    // adding them first gives the same bits as adding them last.
    const __m512i terms0 = _mm512_loadu_si512(g->column_terms + first);
    const __m512i terms1 = width == 2 ? _mm512_loadu_si512(g->column_terms + first + CK_PANEL_WIDTH) : terms0;
    __m512i acc0[MR_VNNI_MAX], acc1[MR_VNNI_MAX];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        acc0[r] = terms0;
        acc1[r] = terms1;
        if (g->row_sums) {  // int8 filters have none: no add of a zero (one op per 16 outputs at small k)
            __m512i extra = _mm512_set1_epi32(row_term(g, row + (r < rows ? r : rows - 1)));
            acc0[r] = _mm512_add_epi32(terms0, extra);
            if (width == 2) acc1[r] = _mm512_add_epi32(terms1, extra);
        }
    }
    for (int q = 0; q < quads; q++) {
        __m512i v0 = _mm512_loadu_si512(w0 + (size_t)q * 64),
                v1 = width == 2 && !half ? _mm512_loadu_si512(w1 + (size_t)q * 64) : v0;
        // A second panel of <= 8 channels: its lanes 0-7 only, at half the cost on 256-bit units.
        const __m256i v1_low = _mm256_loadu_si256((const __m256i *)(w1 + (size_t)q * 64));
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            int32_t quad;
            memcpy(&quad, ap[r] + 4 * q, sizeof quad);
            __m512i x = _mm512_set1_epi32(quad);
            acc0[r] = _mm512_dpbusd_epi32(acc0[r], x, v0);
            if (width == 2 && half)
                acc1[r] = _mm512_castsi256_si512(
                    _mm256_dpbusd_epi32(_mm512_castsi512_si256(acc1[r]), _mm512_castsi512_si256(x), v1_low));
            else if (width == 2)
                acc1[r] = _mm512_dpbusd_epi32(acc1[r], x, v1);
        }
    }
    if (g->narrow && half) {
        if (g->ties_clamped) narrow_epilogue_half(g, acc0, acc1, row, rows, first, mr, narrow0, narrow1, 1);
        else narrow_epilogue_half(g, acc0, acc1, row, rows, first, mr, narrow0, narrow1, 0);
        return;
    }
    if (g->narrow) {
        if (g->ties_clamped) narrow_epilogue(g, acc0, acc1, row, rows, first, width, mr, narrow0, narrow1, 1);
        else narrow_epilogue(g, acc0, acc1, row, rows, first, width, mr, narrow0, narrow1, 0);
        return;
    }
    requant16_channels channels0 = requant16_prepare(g->rq, first);
    requant16_channels channels1 = requant16_prepare(g->rq, width == 2 ? first + CK_PANEL_WIDTH : first);
    if (right_shift_only(&channels0) && (width == 1 || right_shift_only(&channels1))) {
        const __m512i odd0 = _mm512_srli_epi64(channels0.significand, 32), odd1 = _mm512_srli_epi64(channels1.significand, 32);
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            if (r >= rows) continue;
            void *out = (char *)g->out + (ptrdiff_t)(row + r) * g->ldc;
            store16(requantize16_right_only(acc0[r], odd0, &channels0, g->rq), out, first,
                    cols < CK_PANEL_WIDTH ? cols : CK_PANEL_WIDTH);
            if (width == 2)
                store16(requantize16_right_only(acc1[r], odd1, &channels1, g->rq), out, first + CK_PANEL_WIDTH,
                        cols - CK_PANEL_WIDTH < CK_PANEL_WIDTH ? cols - CK_PANEL_WIDTH : CK_PANEL_WIDTH);
        }
        return;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (r >= rows) continue;
        void *out = (char *)g->out + (ptrdiff_t)(row + r) * g->ldc;
        requantize_store16(acc0[r], &channels0, g->rq, out, first, cols < CK_PANEL_WIDTH ? cols : CK_PANEL_WIDTH);
        if (width == 2)
            requantize_store16(acc1[r], &channels1, g->rq, out, first + CK_PANEL_WIDTH,
                               cols - CK_PANEL_WIDTH < CK_PANEL_WIDTH ? cols - CK_PANEL_WIDTH : CK_PANEL_WIDTH);
    }
}

__attribute__((target(CK_AVX512_Q ",avx512vnni")))
static void block_vnni_q(const gemm_q_args *g, int rows, int panel0, int panel1) {
    for (int p = panel0; p < panel1; p += 2) {
        // The narrow epilogue's per-channel constants, once per panel pair rather than once per tile.
        narrow16_channels narrow[2];
        // The pair's second panel holds 8 channels or fewer (24 = 16 + 8: person's and ST's projections).
        const int half = p + 1 < panel1 && g->n - (p + 1) * CK_PANEL_WIDTH <= 8;
        if (g->narrow) {
            narrow[0] = narrow16_prepare(g->rq, p * CK_PANEL_WIDTH);
            if (half) {  // its 8 channels' constants in lanes 0-7 and again in 8-15 (narrow_epilogue_half)
                const int second = (p + 1) * CK_PANEL_WIDTH;
                const __m256i significand = _mm256_loadu_si256((const __m256i *)(g->rq->significand + second));
                const __m256i shift = _mm256_loadu_si256((const __m256i *)(g->rq->shift + second));
                narrow[1] = narrow16_lanes(_mm512_broadcast_i64x4(significand), _mm512_broadcast_i64x4(shift), g->rq);
            } else {
                narrow[1] = narrow16_prepare(g->rq, p + 1 < panel1 ? (p + 1) * CK_PANEL_WIDTH : p * CK_PANEL_WIDTH);
            }
        }
        if (half) {
            for (int row = 0; row < rows; row += MR_VNNI)
                tile_vnni_q(g, row, rows - row < MR_VNNI ? rows - row : MR_VNNI, p, 2, MR_VNNI, 1, &narrow[0], &narrow[1]);
        } else if (p + 1 < panel1) {
            for (int row = 0; row < rows; row += MR_VNNI)
                tile_vnni_q(g, row, rows - row < MR_VNNI ? rows - row : MR_VNNI, p, 2, MR_VNNI, 0, &narrow[0], &narrow[1]);
        } else {
            for (int row = 0; row < rows; row += MR_VNNI_MAX)
                tile_vnni_q(g, row, rows - row < MR_VNNI_MAX ? rows - row : MR_VNNI_MAX, p, 1, MR_VNNI_MAX, 0, &narrow[0],
                            &narrow[1]);
        }
    }
}


// Without VNNI: each 4-channel group of a quad widened to int16 ([channel][4 taps]); vpmaddwd with the
// row's 4 inputs gives two partial sums per channel, added pairwise after the k loop. A row group's
// inputs are widened to int16 once, before the panels: widened at each use they cost three shuffles per
// four inputs per panel, which kept the shuffle port busier than the multiplies.
/// `widened`: room for MR_AVX2 rows of ck_gemm_q_depth(k) int16, allocated by the caller (a variable-length
/// array here would misalign the 32-byte vectors that -O0 code keeps on the stack).
__attribute__((target("avx2")))
static void block_avx2_q(const gemm_q_args *g, int rows_total, int panel0, int panel1, int16_t *widened) {
    const int depth = ck_gemm_q_depth(g->k), quads = depth / 4;
    const size_t stride = panel_bytes(g->k);
    int16_t *wide[MR_AVX2];
    for (int r = 0; r < MR_AVX2; r++) wide[r] = widened + (size_t)r * depth;
    for (int row = 0; row < rows_total; row += MR_AVX2) {
        const uint8_t *ap[MR_AVX2];
        int rows = rows_total - row < MR_AVX2 ? rows_total - row : MR_AVX2;
        row_pointers(g, rows, MR_AVX2, ap);
        for (int r = 0; r < MR_AVX2; r++) {
            const uint8_t *x = ap[r] + (ptrdiff_t)row * g->lda;
            int i = 0;
            for (; i + 16 <= g->k; i += 16)
                _mm256_storeu_si256((__m256i *)(wide[r] + i), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + i))));
            for (; i + 8 <= g->k; i += 8)
                _mm_storeu_si128((__m128i *)(wide[r] + i), _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(x + i))));
            // The last quad in one 8-byte store (the padding's weights are 0, so its inputs may be too), so the
            // quads' 8-byte loads below each find one store to forward from.
            for (; i < depth; i += 4) {
                uint16_t quad[4] = {0, 0, 0, 0};
                for (int j = 0; j < 4 && i + j < g->k; j++) quad[j] = x[i + j];
                memcpy(wide[r] + i, quad, sizeof quad);
            }
        }
        for (int p = panel0; p < panel1; p++) {
            const int8_t *w = g->packed + (size_t)p * stride;
            __m256i acc[MR_AVX2][4];
#pragma clang loop unroll(full)
            for (int r = 0; r < MR_AVX2; r++) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm256_setzero_si256();
            for (int q = 0; q < quads; q++) {
                __m256i v[4];
#pragma clang loop unroll(full)
                for (int i = 0; i < 4; i++)
                    v[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (size_t)q * 64 + 16 * i)));
#pragma clang loop unroll(full)
                for (int r = 0; r < MR_AVX2; r++) {
                    int64_t four;
                    memcpy(&four, wide[r] + 4 * q, sizeof four);
                    __m256i x = _mm256_set1_epi64x(four);
#pragma clang loop unroll(full)
                    for (int i = 0; i < 4; i++) acc[r][i] = _mm256_add_epi32(acc[r][i], _mm256_madd_epi16(x, v[i]));
                }
            }
            int first = p * CK_PANEL_WIDTH, cols = g->n - first;
            if (g->narrow) {
                const narrow8_channels c0 = narrow8_prepare(g->rq, first), c1 = narrow8_prepare(g->rq, first + 8);
                const __m256i terms0 = _mm256_loadu_si256((const __m256i *)(g->column_terms + first));
                const __m256i terms1 = _mm256_loadu_si256((const __m256i *)(g->column_terms + first + 8));
                for (int r = 0; r < rows; r++) {
                    __m256i extra = _mm256_set1_epi32(row_term(g, row + r));
                    __m256i sums0 = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xD8);
                    __m256i sums1 = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2], acc[r][3]), 0xD8);
                    sums0 = _mm256_add_epi32(sums0, _mm256_add_epi32(terms0, extra));
                    sums1 = _mm256_add_epi32(sums1, _mm256_add_epi32(terms1, extra));
                    __m256i v0 = g->ties_clamped ? narrow8(sums0, &c0, 1) : narrow8(sums0, &c0, 0);
                    __m256i v1 = g->ties_clamped ? narrow8(sums1, &c1, 1) : narrow8(sums1, &c1, 0);
                    store16_narrow(v0, v1, g->rq, (char *)g->out + (ptrdiff_t)(row + r) * g->ldc, first,
                                   cols < 16 ? cols : 16);
                }
                continue;
            }
            requant8_channels channels[2] = {requant8_prepare(g->rq, first), requant8_prepare(g->rq, first + 8)};
            for (int r = 0; r < rows; r++) {
                __m256i extra = _mm256_set1_epi32(row_term(g, row + r));
                void *out = (char *)g->out + (ptrdiff_t)(row + r) * g->ldc;
                for (int half = 0; half < 2; half++) {
                    // hadd within 128-bit lanes gives channels (0 1 4 5 | 2 3 6 7); reorder the 64-bit pairs.
                    __m256i sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2 * half], acc[r][2 * half + 1]), 0xD8);
                    __m256i terms = _mm256_loadu_si256((const __m256i *)(g->column_terms + first + 8 * half));
                    int count = cols - 8 * half;
                    if (count <= 0) break;
                    requantize_store8(_mm256_add_epi32(sums, _mm256_add_epi32(terms, extra)), &channels[half], g->rq, out,
                                      first + 8 * half, count < 8 ? count : 8);
                }
            }
        }
    }
}
#endif

static int vnni_disabled;

void ck_gemm_q_disable_vnni(int disabled) { vnni_disabled = disabled; }

int ck_has_avx512_q(void) {
#if defined(__x86_64__)
    return ck_active_isa() == CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int ck_gemm_q_uses_vnni(void) { return !vnni_disabled && ck_has_avx512_q() && ck_has_avx512_vnni(); }

static inline int conv_q_depth(const ck_window *w) {
    return ck_gemm_q_depth(w->filter_height * w->filter_width * w->channels);
}

static inline int output_pixels(const ck_window *w) { return w->output_height * w->output_width; }

/// Bytes between a tile's gathered rows: rgb3x3 layers always reserve the vector path's layout, whichever
/// instruction set runs.
static inline int gathered_row_length(const ck_window *w) { return rgb3x3_shape(w) ? RGB3X3_ROW : conv_q_depth(w); }

size_t ck_conv_q_scratch_size(const ck_window *w) { return (size_t)TILE_ROWS * gathered_row_length(w); }

int ck_conv_q_tile_count(const ck_window *w, int n) {
    return ((output_pixels(w) + TILE_ROWS - 1) / TILE_ROWS) * ((panel_count(n) + TILE_PANELS - 1) / TILE_PANELS);
}

/// 1x1 stride-1 convolutions whose pixels are whole quads: the GEMM rows are the input pixels.
static int rows_are_input(const ck_window *w) {
    return w->filter_height == 1 && w->filter_width == 1 && w->stride_height == 1 && w->stride_width == 1
        && w->pad_top == 0 && w->pad_left == 0 && w->output_width == w->input_width
        && w->output_height == w->input_height && w->channels % 4 == 0;
}

int ck_conv_q_narrow(const ck_window *w, int n, const int32_t *column_terms, int32_t row_sum_factor,
                     const ck_requant *rq) {
    const gemm_q_args g = {NULL, 0, NULL, row_sum_factor, w->filter_height * w->filter_width * w->channels, NULL, n,
                           column_terms, rq, NULL, n, 0};
    return narrow_epilogue_holds(&g);
}

int ck_conv_q_fold_constant_channels(const ck_window *w, int n, const int32_t *column_terms, int32_t row_sum_factor,
                                     const ck_requant *rq, int32_t *significand, int32_t *shift) {
    const int64_t part = input_part(w->filter_height * w->filter_width * w->channels, row_sum_factor);
    int folded = 0;
    for (int c = 0; c < n; c++)
        folded += fold_constant_channel(rq, c, (int64_t)column_terms[c] - part, (int64_t)column_terms[c] + part,
                                        significand, shift);
    return folded;
}

void ck_conv_q(const void *input, const ck_window *w, const int8_t *packed, int n, const int32_t *column_terms,
               int32_t row_sum_factor, const ck_requant *rq, int narrow, void *out, int tile_begin, int tile_end,
               uint8_t *scratch) {
    const int k = w->filter_height * w->filter_width * w->channels, depth = conv_q_depth(w);
    const int m = output_pixels(w), panels = panel_count(n);
    const int column_tiles = (panels + TILE_PANELS - 1) / TILE_PANELS;
    const int is_signed = rq->is_signed;
    const uint8_t flip = is_signed ? 0x80 : 0;  // x ^ 0x80 == x + 128 for int8 bits
    const uint8_t padding = (uint8_t)ck_gemm_q_padding(is_signed, rq->input_offset);
    const int vnni = ck_gemm_q_uses_vnni();
    const ck_isa isa = ck_active_isa();
    const int avx2 = isa >= CK_ISA_AVX2_FMA;
    // uint8 1x1 layers read the input in place; int8 ones copy each tile's rows flipped to uint8 (measured
    // faster than flipping each quad before its broadcast, which then comes from a general register).
    const int in_place = rows_are_input(w) && !is_signed;
    const int copy_rows = rows_are_input(w) && is_signed;
    const int vector_rgb = vnni && rgb3x3_vectorized(w);
    const int row_length = vector_rgb ? RGB3X3_ROW : depth;
    gemm_q_args g = {NULL, in_place ? w->channels : row_length, NULL, row_sum_factor, k, packed, n, column_terms, rq, NULL,
                     n, 0};
    g.narrow = narrow;  // the VNNI and AVX2 epilogues take it; the others ignore it
    g.ties_clamped = narrow_ties_clamped(rq);
    int32_t row_sums[TILE_ROWS];
    int gathered_row0 = -1;
    for (int t = tile_begin; t < tile_end; t++) {
        int row0 = (t / column_tiles) * TILE_ROWS, panel0 = (t % column_tiles) * TILE_PANELS;
        int rows = row0 + TILE_ROWS < m ? TILE_ROWS : m - row0;
        int panel1 = panel0 + TILE_PANELS < panels ? panel0 + TILE_PANELS : panels;
        if (in_place) {
            g.a = (const uint8_t *)input + (size_t)row0 * w->channels;
            if (row_sum_factor != 0 && gathered_row0 != row0)
                for (int r = 0; r < rows; r++) row_sums[r] = (int32_t)byte_sum(g.a + (size_t)r * w->channels, w->channels, avx2);
        } else {
            g.a = scratch;
            if (gathered_row0 != row0 && copy_rows) {
                // 1x1 stride 1: the tile's rows are adjacent input pixels, flipped in one copy.
                copy_flipped(scratch, (const uint8_t *)input + (size_t)row0 * w->channels, rows * w->channels, flip);
                if (row_sum_factor != 0)
                    for (int r = 0; r < rows; r++) row_sums[r] = (int32_t)byte_sum(scratch + (size_t)r * depth, depth, avx2);
            } else if (gathered_row0 != row0) {
                // The tile's im2col rows, gathered once for all its column tiles while they stay in L1.
#if defined(__x86_64__)
                if (vector_rgb)
                    gather_rows_rgb3x3((const uint8_t *)input, w, row0, rows, flip, padding, scratch);
                else
#endif
                    gather_rows((const uint8_t *)input, w, row0, rows, flip, padding, depth, scratch);
                // Bytes past k are zero, so whole rows can be summed.
                if (row_sum_factor != 0)
                    for (int r = 0; r < rows; r++)
                        row_sums[r] = (int32_t)byte_sum(scratch + (size_t)r * row_length, row_length, avx2);
            }
        }
        gathered_row0 = row0;
        g.row_sums = row_sum_factor != 0 ? row_sums : NULL;
        g.out = (char *)out + (size_t)row0 * n;
#if defined(__x86_64__)
        if (vnni) {
            block_vnni_q(&g, rows, panel0, panel1);
            continue;
        }
        if (avx2) {
            int16_t widened[MR_AVX2 * ck_gemm_q_depth(k)];
            block_avx2_q(&g, rows, panel0, panel1, widened);
            continue;
        }
#endif
        block_portable_q(&g, rows, panel0, panel1);
    }
}

// gemmlowp SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, as TFLite's
// MultiplyByQuantizedMultiplier (int32 wrap-around on the left shift, as the reference kernels).
static inline int32_t rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t product = (int64_t)a * (int64_t)b;
    int64_t nudge = product >= 0 ? (1LL << 30) : (1 - (1LL << 30));
    return (int32_t)((product + nudge) / (1LL << 31));
}

static inline int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t)((1LL << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t ck_requantize(int32_t accumulator, int32_t significand, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)accumulator * (uint32_t)(1u << left));
    return rounding_divide_by_pot(rounding_doubling_high_mul(shifted, significand), right);
}
