// The two per-row loops of the 8-bit softmax (Sources/Inference/Kernels/Optimized/
// OptimizedQuantizedSoftmax.swift), with AVX2 gathers from the 256-entry tables. Integer arithmetic
// only, identical on every instruction set.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline int32_t softmax_distance(const void *row, int is_signed, int32_t top, int c) {
    int32_t x = is_signed ? (int32_t)((const int8_t *)row)[c] : (int32_t)((const uint8_t *)row)[c];
    return top - x;
}

// Gemmlowp SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, for scale > 0 and e >= 0 (no
// saturation, and the negative-value nudges never apply), then the offset and the clamp.
static inline int32_t softmax_output(int32_t scale, int32_t e, int32_t exponent, int32_t mask, int32_t threshold,
                                     int32_t minimum, int32_t maximum) {
    int32_t probability = (int32_t)(((int64_t)scale * e + (1ll << 30)) >> 31);
    int32_t value = (probability >> exponent) + ((probability & mask) > threshold ? 1 : 0) + minimum;
    return value < minimum ? minimum : value > maximum ? maximum : value;
}

static int32_t softmax_sum_portable(const void *row, int is_signed, int depth, int32_t top, const int32_t *summands) {
    uint32_t sum = 0;  // wraps as the reference's &+
    for (int c = 0; c < depth; c++) sum += (uint32_t)summands[softmax_distance(row, is_signed, top, c)];
    return (int32_t)sum;
}

static void softmax_output_portable(const void *row, int is_signed, int depth, int32_t top,
                                    const int32_t *exponentials, int32_t scale, int32_t exponent, void *output) {
    int32_t mask = (int32_t)((1ull << exponent) - 1), threshold = mask >> 1;
    int32_t minimum = is_signed ? -128 : 0, maximum = is_signed ? 127 : 255;
    for (int c = 0; c < depth; c++) {
        int32_t value = softmax_output(scale, exponentials[softmax_distance(row, is_signed, top, c)], exponent, mask,
                                       threshold, minimum, maximum);
        if (is_signed) ((int8_t *)output)[c] = (int8_t)value;
        else ((uint8_t *)output)[c] = (uint8_t)value;
    }
}

#if defined(__x86_64__)
// Eight distances top - x[c .. c+8) as int32.
__attribute__((target("avx2"))) static inline __m256i softmax_distances8(const void *row, int is_signed, __m256i top,
                                                                           int c) {
    __m128i bytes = _mm_loadl_epi64((const __m128i *)((const uint8_t *)row + c));
    __m256i x = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
    return _mm256_sub_epi32(top, x);
}

__attribute__((target("avx2")))
static int32_t softmax_sum_avx2(const void *row, int is_signed, int depth, int32_t top, const int32_t *summands) {
    __m256i top8 = _mm256_set1_epi32(top), sum8 = _mm256_setzero_si256();
    int c = 0;
    for (; c + 8 <= depth; c += 8) {
        __m256i d = softmax_distances8(row, is_signed, top8, c);
        sum8 = _mm256_add_epi32(sum8, _mm256_i32gather_epi32((const int *)summands, d, 4));
    }
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, sum8);
    uint32_t sum = 0;  // integer addition wraps the same in any order
    for (int i = 0; i < 8; i++) sum += lanes[i];
    for (; c < depth; c++) sum += (uint32_t)summands[softmax_distance(row, is_signed, top, c)];
    return (int32_t)sum;
}

__attribute__((target("avx2")))
static void softmax_output_avx2(const void *row, int is_signed, int depth, int32_t top, const int32_t *exponentials,
                                int32_t scale, int32_t exponent, void *output) {
    int32_t mask = (int32_t)((1ull << exponent) - 1), threshold = mask >> 1;
    int32_t minimum = is_signed ? -128 : 0, maximum = is_signed ? 127 : 255;
    __m256i top8 = _mm256_set1_epi32(top), scale8 = _mm256_set1_epi32(scale);
    __m256i nudge = _mm256_set1_epi64x(1ll << 30);
    __m256i mask8 = _mm256_set1_epi32(mask), threshold8 = _mm256_set1_epi32(threshold);
    __m256i minimum8 = _mm256_set1_epi32(minimum), maximum8 = _mm256_set1_epi32(maximum);
    __m128i count = _mm_cvtsi32_si128(exponent);
    int c = 0;
    for (; c + 8 <= depth; c += 8) {
        __m256i e = _mm256_i32gather_epi32((const int *)exponentials, softmax_distances8(row, is_signed, top8, c), 4);
        // Both factors are in [0, 2^31), so the unsigned 32x32->64 products are the signed ones.
        __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(scale8, e), nudge), 31);
        __m256i odd = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(scale8, _mm256_srli_epi64(e, 32)), nudge), 31);
        __m256i probability = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
        __m256i above = _mm256_cmpgt_epi32(_mm256_and_si256(probability, mask8), threshold8);  // -1 where rounding up
        __m256i value = _mm256_add_epi32(_mm256_sub_epi32(_mm256_srl_epi32(probability, count), above), minimum8);
        value = _mm256_min_epi32(_mm256_max_epi32(value, minimum8), maximum8);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(value), _mm256_extracti128_si256(value, 1));
        __m128i bytes = is_signed ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
        _mm_storel_epi64((__m128i *)((uint8_t *)output + c), bytes);
    }
    for (; c < depth; c++) {
        int32_t value = softmax_output(scale, exponentials[softmax_distance(row, is_signed, top, c)], exponent, mask,
                                       threshold, minimum, maximum);
        if (is_signed) ((int8_t *)output)[c] = (int8_t)value;
        else ((uint8_t *)output)[c] = (uint8_t)value;
    }
}
#endif

int32_t ck_softmax_q_sum(const void *row, int is_signed, int depth, int32_t top, const int32_t *summands,
                         ck_isa isa) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX2_FMA) return softmax_sum_avx2(row, is_signed, depth, top, summands);
#endif
    (void)isa;
    return softmax_sum_portable(row, is_signed, depth, top, summands);
}

void ck_softmax_q_output(const void *row, int is_signed, int depth, int32_t top, const int32_t *exponentials,
                         int32_t scale, int32_t exponent, void *output, ck_isa isa) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX2_FMA) {
        softmax_output_avx2(row, is_signed, depth, top, exponentials, scale, exponent, output);
        return;
    }
#endif
    (void)isa;
    softmax_output_portable(row, is_signed, depth, top, exponentials, scale, exponent, output);
}
