// RESIZE_BILINEAR of int8 tensors, one output row at a time (Sources/Inference/Kernels/Optimized/
// OptimizedQuantizedResizeBilinear.swift, which explains why the int32 sums equal the reference's
// int64 ones). Vectorized across channels; integer arithmetic only, identical on every path.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// (sum + (sum > 0 ? 2^19 : -2^19)) / 2^20 with C's truncating division, narrowed like Int8(truncatingIfNeeded:).
static inline int8_t resize_round(uint32_t wrapped_sum) {
    int32_t sum = (int32_t)wrapped_sum;
    int32_t rounded = (int32_t)((uint32_t)sum + (uint32_t)(sum > 0 ? (1 << 19) : -(1 << 19)));
    return (int8_t)(rounded / (1 << 20));
}

static void resize_pixel_portable(const int8_t *tl, const int8_t *tr, const int8_t *bl, const int8_t *br, int32_t w00,
                                  int32_t w10, int32_t w01, int32_t w11, int c, int depth, int8_t *out) {
    for (; c < depth; c++) {
        uint32_t sum = (uint32_t)tl[c] * (uint32_t)w00 + (uint32_t)bl[c] * (uint32_t)w10
            + (uint32_t)tr[c] * (uint32_t)w01 + (uint32_t)br[c] * (uint32_t)w11;
        out[c] = resize_round(sum);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl")))
static void resize_row_avx512(const int8_t *row0, const int8_t *row1, int32_t dy, const int32_t *lower,
                              const int32_t *upper, const int32_t *fractions, int columns, int depth, int8_t *out) {
    const int32_t one = 1 << 10;
    __m512i half = _mm512_set1_epi32(1 << 19), minus_half = _mm512_set1_epi32(-(1 << 19));
    __m512i zero = _mm512_setzero_si512(), below = _mm512_set1_epi32((1 << 20) - 1);
    for (int j = 0; j < columns; j++, out += depth) {
        int32_t dx = fractions[j];
        __m512i w00 = _mm512_set1_epi32((one - dy) * (one - dx)), w10 = _mm512_set1_epi32(dy * (one - dx));
        __m512i w01 = _mm512_set1_epi32((one - dy) * dx), w11 = _mm512_set1_epi32(dy * dx);
        const int8_t *tl = row0 + lower[j], *tr = row0 + upper[j], *bl = row1 + lower[j], *br = row1 + upper[j];
        for (int c = 0; c < depth; c += 16) {
            int n = depth - c;
            __mmask16 k = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
            __m512i sum = _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, tl + c)), w00);
            sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, bl + c)), w10));
            sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, tr + c)), w01));
            sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, br + c)), w11));
            __m512i rounded = _mm512_add_epi32(sum, _mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(sum, zero),
                                                                            minus_half, half));
            // Truncating division by 2^20: negative values first move up by 2^20 - 1.
            __m512i bias = _mm512_and_si512(_mm512_srai_epi32(rounded, 31), below);
            __m512i quotient = _mm512_srai_epi32(_mm512_add_epi32(rounded, bias), 20);
            _mm512_mask_cvtepi32_storeu_epi8(out + c, k, quotient);
        }
    }
}

__attribute__((target("avx2")))
static void resize_row_avx2(const int8_t *row0, const int8_t *row1, int32_t dy, const int32_t *lower,
                            const int32_t *upper, const int32_t *fractions, int columns, int depth, int8_t *out) {
    const int32_t one = 1 << 10;
    __m256i half = _mm256_set1_epi32(1 << 19), minus_half = _mm256_set1_epi32(-(1 << 19));
    __m256i zero = _mm256_setzero_si256(), below = _mm256_set1_epi32((1 << 20) - 1);
    __m256i pick_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int j = 0; j < columns; j++, out += depth) {
        int32_t dx = fractions[j];
        int32_t s00 = (one - dy) * (one - dx), s10 = dy * (one - dx), s01 = (one - dy) * dx, s11 = dy * dx;
        __m256i w00 = _mm256_set1_epi32(s00), w10 = _mm256_set1_epi32(s10);
        __m256i w01 = _mm256_set1_epi32(s01), w11 = _mm256_set1_epi32(s11);
        const int8_t *tl = row0 + lower[j], *tr = row0 + upper[j], *bl = row1 + lower[j], *br = row1 + upper[j];
        int c = 0;
        for (; c + 8 <= depth; c += 8) {
#define RESIZE_LOAD8(p) _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((p) + c)))
            __m256i sum = _mm256_mullo_epi32(RESIZE_LOAD8(tl), w00);
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(RESIZE_LOAD8(bl), w10));
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(RESIZE_LOAD8(tr), w01));
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(RESIZE_LOAD8(br), w11));
#undef RESIZE_LOAD8
            __m256i rounded = _mm256_add_epi32(sum, _mm256_blendv_epi8(minus_half, half, _mm256_cmpgt_epi32(sum, zero)));
            __m256i bias = _mm256_and_si256(_mm256_srai_epi32(rounded, 31), below);
            __m256i quotient = _mm256_srai_epi32(_mm256_add_epi32(rounded, bias), 20);
            // The low byte of each lane, as Int8(truncatingIfNeeded:).
            __m256i picked = _mm256_shuffle_epi8(quotient, pick_bytes);
            uint32_t low = (uint32_t)_mm256_extract_epi32(picked, 0), high = (uint32_t)_mm256_extract_epi32(picked, 4);
            uint64_t bytes = (uint64_t)low | ((uint64_t)high << 32);
            __builtin_memcpy(out + c, &bytes, 8);
        }
        resize_pixel_portable(tl, tr, bl, br, s00, s10, s01, s11, c, depth, out);
    }
}
#endif

void ck_resize_bilinear_s8_row(const int8_t *row0, const int8_t *row1, int32_t dy, const int32_t *lower,
                               const int32_t *upper, const int32_t *fractions, int columns, int depth, int8_t *out,
                               ck_isa isa) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        resize_row_avx512(row0, row1, dy, lower, upper, fractions, columns, depth, out);
        return;
    }
    if (isa >= CK_ISA_AVX2_FMA) {
        resize_row_avx2(row0, row1, dy, lower, upper, fractions, columns, depth, out);
        return;
    }
#endif
    (void)isa;
    const int32_t one = 1 << 10;
    for (int j = 0; j < columns; j++, out += depth) {
        int32_t dx = fractions[j];
        resize_pixel_portable(row0 + lower[j], row0 + upper[j], row1 + lower[j], row1 + upper[j],
                              (one - dy) * (one - dx), dy * (one - dx), (one - dy) * dx, dy * dx, 0, depth, out);
    }
}
