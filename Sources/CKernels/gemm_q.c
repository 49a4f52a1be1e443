// 8-bit convolution as an int16 GEMM: inputs and weights are widened with their offsets (so every
// product is exact in int32, as in TFLite's reference), pairs of k are multiplied and summed by one
// instruction (AVX-512 VNNI vpdpwssd, or AVX2 vpmaddwd), and each int32 accumulator is requantized
// with exactly TFLite's integer arithmetic.
#include <string.h>
#include "CKernels.h"

#define TILE_ROWS 24
#define TILE_PANELS 4

static inline int panel_count(int n) { return (n + CK_PANEL_WIDTH - 1) / CK_PANEL_WIDTH; }
static inline int pair_count(int k) { return (k + 1) / 2; }
static inline size_t panel_stride_q(int k) { return (size_t)pair_count(k) * 2 * CK_PANEL_WIDTH; }

size_t ck_packed_q_count(int n, int k) { return (size_t)panel_count(n) * panel_stride_q(k); }

void ck_pack_q(const void *weights, int is_signed, int32_t filter_offset, int n, int k, int16_t *packed) {
    memset(packed, 0, ck_packed_q_count(n, k) * sizeof(int16_t));
    for (int channel = 0; channel < n; channel++) {
        int16_t *panel = packed + (size_t)(channel / CK_PANEL_WIDTH) * panel_stride_q(k);
        int lane = channel % CK_PANEL_WIDTH;
        for (int i = 0; i < k; i++) {
            size_t index = (size_t)channel * k + i;
            int32_t value = is_signed ? ((const int8_t *)weights)[index] : ((const uint8_t *)weights)[index];
            panel[(size_t)(i / 2) * 2 * CK_PANEL_WIDTH + lane * 2 + (i % 2)] = (int16_t)(value + filter_offset);
        }
    }
}

void ck_rows_q(const void *input, int is_signed, int32_t input_offset, const ck_window *w, int row_begin,
               int row_end, int row_length, int16_t *rows) {
    const int channels = w->channels;
    int16_t *out = rows;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++, out += row_length) {
            int16_t *dst = out;
            for (int fy = 0; fy < w->filter_height; fy++) {
                int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
                for (int fx = 0; fx < w->filter_width; fx++, dst += channels) {
                    int ix = ox * w->stride_width - w->pad_left + fx * w->dilation_width;
                    if (iy < 0 || iy >= w->input_height || ix < 0 || ix >= w->input_width) {
                        memset(dst, 0, (size_t)channels * sizeof(int16_t));
                        continue;
                    }
                    size_t base = ((size_t)iy * w->input_width + ix) * channels;
                    if (is_signed) {
                        const int8_t *x = (const int8_t *)input + base;
                        for (int c = 0; c < channels; c++) dst[c] = (int16_t)(x[c] + input_offset);
                    } else {
                        const uint8_t *x = (const uint8_t *)input + base;
                        for (int c = 0; c < channels; c++) dst[c] = (int16_t)(x[c] + input_offset);
                    }
                }
            }
            for (int16_t *end = out + row_length; dst < end; dst++) *dst = 0;
        }
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

// Requantizes 16 accumulators of output channels [column, column + cols) of one row.
static inline void store_row(const int32_t *acc, const int32_t *bias, const ck_requant *rq, void *out_row,
                             int column, int cols) {
    for (int j = 0; j < cols; j++) {
        int channel = column + j;
        int32_t value = (int32_t)((uint32_t)acc[j] + (uint32_t)(bias ? bias[channel] : 0));  // wraps as the reference
        value = ck_requantize(value, rq->significand[channel], rq->shift[channel]) + rq->output_offset;
        value = value < rq->activation_min ? rq->activation_min : value;
        value = value > rq->activation_max ? rq->activation_max : value;
        if (rq->is_signed) ((int8_t *)out_row)[channel] = (int8_t)value;
        else ((uint8_t *)out_row)[channel] = (uint8_t)value;
    }
}

static void block_portable_q(const int16_t *a, ptrdiff_t lda, int row0, int row1, int k, const int16_t *packed,
                             int n, int panel0, int panel1, const int32_t *bias, const ck_requant *rq, void *out,
                             ptrdiff_t ldc) {
    int pairs = pair_count(k);
    size_t element = 1;
    for (int row = row0; row < row1; row++) {
        const int16_t *x = a + (ptrdiff_t)row * lda;
        for (int p = panel0; p < panel1; p++) {
            const int16_t *panel = packed + (size_t)p * panel_stride_q(k);
            int32_t acc[CK_PANEL_WIDTH] = {0};
            for (int i = 0; i < pairs; i++)
                for (int j = 0; j < CK_PANEL_WIDTH; j++)
                    acc[j] += (int32_t)x[2 * i] * panel[i * 32 + 2 * j] + (int32_t)x[2 * i + 1] * panel[i * 32 + 2 * j + 1];
            int cols = n - p * CK_PANEL_WIDTH;
            store_row(acc, bias, rq, (char *)out + (ptrdiff_t)row * ldc * element, p * CK_PANEL_WIDTH,
                      cols < CK_PANEL_WIDTH ? cols : CK_PANEL_WIDTH);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define MR_Q512 12
#define MR_Q256 6

static inline void row_pointers_q(const int16_t *a, ptrdiff_t lda, int row, int rows, int count, const int16_t **ap) {
    for (int r = 0; r < count; r++) ap[r] = a + (ptrdiff_t)(row + (r < rows ? r : rows - 1)) * lda;
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void block_vnni_q(const int16_t *a, ptrdiff_t lda, int row0, int row1, int k, const int16_t *packed,
                         int n, int panel0, int panel1, const int32_t *bias, const ck_requant *rq, void *out,
                         ptrdiff_t ldc) {
    int pairs = pair_count(k);
    size_t stride = panel_stride_q(k);
    for (int row = row0; row < row1; row += MR_Q512) {
        const int16_t *ap[MR_Q512];
        int rows = row1 - row < MR_Q512 ? row1 - row : MR_Q512;
        row_pointers_q(a, lda, row, rows, MR_Q512, ap);
        for (int p = panel0; p < panel1; p += 2) {
            int two = p + 1 < panel1;
            const int16_t *w0 = packed + (size_t)p * stride, *w1 = two ? w0 + stride : w0;
            __m512i acc0[MR_Q512], acc1[MR_Q512];
            for (int r = 0; r < MR_Q512; r++) acc0[r] = acc1[r] = _mm512_setzero_si512();
            for (int i = 0; i < pairs; i++) {
                __m512i v0 = _mm512_loadu_si512(w0 + (size_t)i * 32), v1 = _mm512_loadu_si512(w1 + (size_t)i * 32);
                for (int r = 0; r < MR_Q512; r++) {
                    int32_t pair;
                    memcpy(&pair, ap[r] + 2 * i, sizeof pair);
                    __m512i x = _mm512_set1_epi32(pair);
                    acc0[r] = _mm512_dpwssd_epi32(acc0[r], x, v0);
                    acc1[r] = _mm512_dpwssd_epi32(acc1[r], x, v1);
                }
            }
            for (int r = 0; r < rows; r++) {
                int32_t lanes[2 * CK_PANEL_WIDTH];
                _mm512_storeu_si512(lanes, acc0[r]);
                _mm512_storeu_si512(lanes + 16, acc1[r]);
                int cols = n - p * CK_PANEL_WIDTH;
                int limit = two ? 2 * CK_PANEL_WIDTH : CK_PANEL_WIDTH;
                store_row(lanes, bias, rq, (char *)out + (ptrdiff_t)(row + r) * ldc, p * CK_PANEL_WIDTH,
                          cols < limit ? cols : limit);
            }
        }
    }
}

__attribute__((target("avx2")))
static void block_avx2_q(const int16_t *a, ptrdiff_t lda, int row0, int row1, int k, const int16_t *packed,
                         int n, int panel0, int panel1, const int32_t *bias, const ck_requant *rq, void *out,
                         ptrdiff_t ldc) {
    int pairs = pair_count(k);
    size_t stride = panel_stride_q(k);
    for (int row = row0; row < row1; row += MR_Q256) {
        const int16_t *ap[MR_Q256];
        int rows = row1 - row < MR_Q256 ? row1 - row : MR_Q256;
        row_pointers_q(a, lda, row, rows, MR_Q256, ap);
        for (int p = panel0; p < panel1; p++) {
            const int16_t *w = packed + (size_t)p * stride;
            __m256i acc[MR_Q256][2];
            for (int r = 0; r < MR_Q256; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
            for (int i = 0; i < pairs; i++) {
                __m256i v0 = _mm256_loadu_si256((const __m256i *)(w + (size_t)i * 32));
                __m256i v1 = _mm256_loadu_si256((const __m256i *)(w + (size_t)i * 32 + 16));
                for (int r = 0; r < MR_Q256; r++) {
                    int32_t pair;
                    memcpy(&pair, ap[r] + 2 * i, sizeof pair);
                    __m256i x = _mm256_set1_epi32(pair);
                    acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x, v0));
                    acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x, v1));
                }
            }
            for (int r = 0; r < rows; r++) {
                int32_t lanes[CK_PANEL_WIDTH];
                _mm256_storeu_si256((__m256i *)lanes, acc[r][0]);
                _mm256_storeu_si256((__m256i *)(lanes + 8), acc[r][1]);
                int cols = n - p * CK_PANEL_WIDTH;
                store_row(lanes, bias, rq, (char *)out + (ptrdiff_t)(row + r) * ldc, p * CK_PANEL_WIDTH,
                          cols < CK_PANEL_WIDTH ? cols : CK_PANEL_WIDTH);
            }
        }
    }
}
#endif

void ck_gemm_q(const int16_t *a, ptrdiff_t lda, int m, int k, const int16_t *packed, int n, const int32_t *bias,
               const ck_requant *rq, void *out, ptrdiff_t ldc, int tile_begin, int tile_end) {
    int panels = panel_count(n);
    int column_tiles = (panels + TILE_PANELS - 1) / TILE_PANELS;
    int vnni = ck_has_avx512_vnni();
    ck_isa isa = ck_active_isa();
    for (int t = tile_begin; t < tile_end; t++) {
        int row0 = (t / column_tiles) * TILE_ROWS, panel0 = (t % column_tiles) * TILE_PANELS;
        int row1 = row0 + TILE_ROWS < m ? row0 + TILE_ROWS : m;
        int panel1 = panel0 + TILE_PANELS < panels ? panel0 + TILE_PANELS : panels;
#if defined(__x86_64__)
        if (vnni) {
            block_vnni_q(a, lda, row0, row1, k, packed, n, panel0, panel1, bias, rq, out, ldc);
            continue;
        }
        if (isa >= CK_ISA_AVX2_FMA) {
            block_avx2_q(a, lda, row0, row1, k, packed, n, panel0, panel1, bias, rq, out, ldc);
            continue;
        }
#endif
        (void)vnni; (void)isa;
        block_portable_q(a, lda, row0, row1, k, packed, n, panel0, panel1, bias, rq, out, ldc);
    }
}
