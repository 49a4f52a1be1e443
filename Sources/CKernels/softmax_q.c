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

// ---- Whole rows at a time (max, sum, and after the caller's reciprocal, the outputs) ----
// The tables have 256 entries, of which only the first `length` may be nonzero. With AVX-512 the
// lookup is a register permute over 32-entry blocks of the table (vpermt2d) instead of a gather: a
// typical input scale leaves one or two blocks. Integer arithmetic only, identical on every path.

static int softmax_row_max(const void *row, int is_signed, int depth) {
    int32_t top = is_signed ? -128 : 0;
    for (int c = 0; c < depth; c++) {
        int32_t x = is_signed ? (int32_t)((const int8_t *)row)[c] : (int32_t)((const uint8_t *)row)[c];
        top = x > top ? x : top;
    }
    return top;
}

#if defined(__x86_64__)
#define SOFTMAX_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"), always_inline)) static inline
#define SOFTMAX_AVX512_ENTRY __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) static

/// Row maxima and lookups need AVX-512BW/VL on top of the AVX-512F that CK_ISA_AVX512 promises.
static int softmax_avx512_usable(ck_isa isa) {
    return isa >= CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

SOFTMAX_AVX512 __mmask16 softmax_lanes16(int depth, int c) {
    int n = depth - c;
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

SOFTMAX_AVX512 int32_t softmax_row_max_avx512(const void *row, int is_signed, int depth) {
    const uint8_t *p = (const uint8_t *)row;
    // Signed bytes are compared as unsigned after flipping the sign bit.
    __m512i flip = _mm512_set1_epi8(is_signed ? (char)0x80 : 0), m = _mm512_setzero_si512();
    int c = 0;
    for (; c + 64 <= depth; c += 64) m = _mm512_max_epu8(m, _mm512_xor_si512(_mm512_loadu_si512(p + c), flip));
    if (c < depth) {
        __mmask64 k = (__mmask64)((1ull << (depth - c)) - 1);
        m = _mm512_max_epu8(m, _mm512_maskz_mov_epi8(k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, p + c), flip)));
    }
    __m256i m32 = _mm256_max_epu8(_mm512_castsi512_si256(m), _mm512_extracti64x4_epi64(m, 1));
    __m128i m16 = _mm_max_epu8(_mm256_castsi256_si128(m32), _mm256_extracti128_si256(m32, 1));
    m16 = _mm_max_epu8(m16, _mm_srli_si128(m16, 8));
    m16 = _mm_max_epu8(m16, _mm_srli_si128(m16, 4));
    m16 = _mm_max_epu8(m16, _mm_srli_si128(m16, 2));
    m16 = _mm_max_epu8(m16, _mm_srli_si128(m16, 1));
    int32_t top = _mm_cvtsi128_si32(m16) & 0xFF;
    return is_signed ? top - 128 : top;
}

/// Sixteen distances top - x[c ..], lanes past the row end read as 0 (masked off by the callers).
SOFTMAX_AVX512 __m512i softmax_distances16(const void *row, int is_signed, __m512i top, int c, __mmask16 k) {
    __m128i bytes = _mm_maskz_loadu_epi8(k, (const uint8_t *)row + c);
    return _mm512_sub_epi32(top, is_signed ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes));
}

/// table[d] for distances d in [0, 256); `blocks` 32-entry blocks cover every nonzero entry.
/// Lanes outside `k` (past the row end, where d may be negative) are not read from memory.
SOFTMAX_AVX512 __m512i softmax_lookup16(const int32_t *table, int blocks, __m512i d, __mmask16 k) {
    if (blocks > 4) return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, d, table, 4);
    __m512i block = _mm512_srli_epi32(d, 5), r = _mm512_setzero_si512();
    for (int b = 0; b < blocks; b++) {
        __m512i v = _mm512_permutex2var_epi32(_mm512_loadu_si512(table + 32 * b), d,
                                              _mm512_loadu_si512(table + 32 * b + 16));
        r = _mm512_mask_mov_epi32(r, _mm512_cmpeq_epi32_mask(block, _mm512_set1_epi32(b)), v);
    }
    return r;
}

SOFTMAX_AVX512 void softmax_rows_sum_avx512(const void *input, int is_signed, int depth, int rows,
                                            const int32_t *summands, int blocks, int32_t *tops, int32_t *sums) {
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)input + (size_t)r * depth;
        int32_t top = softmax_row_max_avx512(row, is_signed, depth);
        __m512i top16 = _mm512_set1_epi32(top), sum = _mm512_setzero_si512();
        for (int c = 0; c < depth; c += 16) {
            __mmask16 k = softmax_lanes16(depth, c);
            __m512i e = softmax_lookup16(summands, blocks, softmax_distances16(row, is_signed, top16, c, k), k);
            sum = _mm512_mask_add_epi32(sum, k, sum, e);
        }
        tops[r] = top;
        sums[r] = _mm512_reduce_add_epi32(sum);  // wraps as the reference's &+, in any order
    }
}

SOFTMAX_AVX512 void softmax_rows_output_avx512(const void *input, int is_signed, int depth, int rows,
                                               const int32_t *tops, const int32_t *exponentials, int blocks,
                                               const int32_t *scales, const int32_t *exponents, void *output) {
    int32_t minimum = is_signed ? -128 : 0, maximum = is_signed ? 127 : 255;
    __m512i nudge = _mm512_set1_epi64(1ll << 30), one = _mm512_set1_epi32(1);
    __m512i minimum16 = _mm512_set1_epi32(minimum), maximum16 = _mm512_set1_epi32(maximum);
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)input + (size_t)r * depth;
        uint8_t *y = (uint8_t *)output + (size_t)r * depth;
        int32_t exponent = exponents[r], mask = (int32_t)((1ull << exponent) - 1);
        __m512i top16 = _mm512_set1_epi32(tops[r]), scale16 = _mm512_set1_epi32(scales[r]);
        __m512i mask16 = _mm512_set1_epi32(mask), threshold16 = _mm512_set1_epi32(mask >> 1);
        __m128i count = _mm_cvtsi32_si128(exponent);
        for (int c = 0; c < depth; c += 16) {
            __mmask16 k = softmax_lanes16(depth, c);
            __m512i e = softmax_lookup16(exponentials, blocks, softmax_distances16(row, is_signed, top16, c, k), k);
            // Both factors are in [0, 2^31), so the unsigned 32x32->64 products are the signed ones.
            __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(scale16, e), nudge), 31);
            __m512i odd = _mm512_srli_epi64(
                _mm512_add_epi64(_mm512_mul_epu32(scale16, _mm512_srli_epi64(e, 32)), nudge), 31);
            __m512i probability = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
            __mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(probability, mask16), threshold16);
            __m512i value = _mm512_srl_epi32(probability, count);
            value = _mm512_add_epi32(_mm512_mask_add_epi32(value, up, value, one), minimum16);
            value = _mm512_min_epi32(_mm512_max_epi32(value, minimum16), maximum16);
            // In range after the clamp, so the saturating narrowings are plain truncations. Narrowing in a
            // register and then a masked byte store is much faster than vpmovsdb to memory under a mask.
            __m128i bytes = is_signed ? _mm512_cvtsepi32_epi8(value) : _mm512_cvtusepi32_epi8(value);
            _mm_mask_storeu_epi8(y + c, k, bytes);
        }
    }
}

// Constant block counts let the compiler keep the table blocks in registers.
SOFTMAX_AVX512_ENTRY void softmax_rows_sum_avx512_blocks(const void *input, int is_signed, int depth, int rows,
                                                         const int32_t *summands, int length, int32_t *tops,
                                                         int32_t *sums) {
    int blocks = (length + 31) / 32;
    if (blocks == 1) softmax_rows_sum_avx512(input, is_signed, depth, rows, summands, 1, tops, sums);
    else if (blocks == 2) softmax_rows_sum_avx512(input, is_signed, depth, rows, summands, 2, tops, sums);
    else softmax_rows_sum_avx512(input, is_signed, depth, rows, summands, blocks, tops, sums);
}

SOFTMAX_AVX512_ENTRY void softmax_rows_output_avx512_blocks(const void *input, int is_signed, int depth, int rows,
                                                            const int32_t *tops, const int32_t *exponentials,
                                                            int length, const int32_t *scales,
                                                            const int32_t *exponents, void *output) {
    int blocks = (length + 31) / 32;
    if (blocks == 1)
        softmax_rows_output_avx512(input, is_signed, depth, rows, tops, exponentials, 1, scales, exponents, output);
    else if (blocks == 2)
        softmax_rows_output_avx512(input, is_signed, depth, rows, tops, exponentials, 2, scales, exponents, output);
    else
        softmax_rows_output_avx512(input, is_signed, depth, rows, tops, exponentials, blocks, scales, exponents, output);
}
#endif

void ck_softmax_q_rows_sum(const void *input, int is_signed, int depth, int rows, const int32_t *summands,
                           int length, int32_t *tops, int32_t *sums, ck_isa isa) {
#if defined(__x86_64__)
    if (softmax_avx512_usable(isa)) {
        softmax_rows_sum_avx512_blocks(input, is_signed, depth, rows, summands, length, tops, sums);
        return;
    }
#endif
    (void)length;
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)input + (size_t)r * depth;
        tops[r] = softmax_row_max(row, is_signed, depth);
        sums[r] = ck_softmax_q_sum(row, is_signed, depth, tops[r], summands, isa);
    }
}

void ck_softmax_q_rows_output(const void *input, int is_signed, int depth, int rows, const int32_t *tops,
                              const int32_t *exponentials, int length, const int32_t *scales,
                              const int32_t *exponents, void *output, ck_isa isa) {
#if defined(__x86_64__)
    if (softmax_avx512_usable(isa)) {
        softmax_rows_output_avx512_blocks(input, is_signed, depth, rows, tops, exponentials, length, scales, exponents,
                                          output);
        return;
    }
#endif
    (void)length;
    for (int r = 0; r < rows; r++) {
        ck_softmax_q_output((const uint8_t *)input + (size_t)r * depth, is_signed, depth, tops[r], exponentials,
                            scales[r], exponents[r], (uint8_t *)output + (size_t)r * depth, isa);
    }
}

// ---- Reciprocals of the row sums: Quantized.reciprocal (gemmlowp's GetReciprocal with
// one_over_one_plus_x_for_x_in_0_1), the same fixed-point steps in plain C, which compiles to far
// fewer instructions per row than the generic Swift. ----

static inline int32_t softmax_wrapping_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/// Gemmlowp SaturatingRoundingDoublingHighMul.
static inline int32_t softmax_high_mul(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t product = (int64_t)a * b;
    int64_t nudge = product >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((product + nudge) / (1ll << 31));  // truncating, as C++
}

/// SaturatingRoundingMultiplyByPOT for an exponent in 1...30.
static inline int32_t softmax_saturating_shift_left(int32_t x, int exponent) {
    int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

static inline int32_t softmax_one_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + INT32_MAX;  // RoundingHalfSum(a, 1.0)
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t constant_48_over_17 = 1515870810, constant_neg_32_over_17 = -1010580540;  // Q2.29
    int32_t x = softmax_wrapping_add(constant_48_over_17, softmax_high_mul(half_denominator, constant_neg_32_over_17));
    const int32_t one_q2 = 1 << 29;
    for (int i = 0; i < 3; i++) {
        int32_t one_minus = (int32_t)((uint32_t)one_q2 - (uint32_t)softmax_high_mul(half_denominator, x));
        x = softmax_wrapping_add(x, softmax_saturating_shift_left(softmax_high_mul(x, one_minus), 2));
    }
    return softmax_saturating_shift_left(x, 1);  // ExactMulByPot<-1> then Rescale<0> from Q1
}

#if defined(__x86_64__)
#define SOFTMAX_AVX512CD __attribute__((target("avx512f,avx512cd"), always_inline)) static inline

/// softmax_high_mul on 16 lanes (INT32_MIN * INT32_MIN included).
SOFTMAX_AVX512CD __m512i softmax_high_mul16(__m512i a, __m512i b) {
    __m512i nudge_up = _mm512_set1_epi64(1ll << 30), nudge_down = _mm512_set1_epi64(1 - (1ll << 30));
    __m512i toward_zero = _mm512_set1_epi64((1ll << 31) - 1), zero = _mm512_setzero_si512();
    __m512i products[2] = {_mm512_mul_epi32(a, b), _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32))};
    for (int i = 0; i < 2; i++) {
        __m512i p = products[i];
        __mmask8 negative = _mm512_cmplt_epi64_mask(p, zero);
        p = _mm512_add_epi64(p, _mm512_mask_blend_epi64(negative, nudge_up, nudge_down));
        // Truncating division by 2^31: negative values first move up by 2^31 - 1.
        p = _mm512_mask_add_epi64(p, _mm512_cmplt_epi64_mask(p, zero), p, toward_zero);
        products[i] = _mm512_srai_epi64(p, 31);
    }
    __m512i result = _mm512_mask_blend_epi32(0xAAAA, products[0], _mm512_slli_epi64(products[1], 32));
    __m512i minimum = _mm512_set1_epi32(INT32_MIN);
    __mmask16 both_minimum = _mm512_cmpeq_epi32_mask(a, minimum) & _mm512_cmpeq_epi32_mask(b, minimum);
    return _mm512_mask_mov_epi32(result, both_minimum, _mm512_set1_epi32(INT32_MAX));
}

SOFTMAX_AVX512CD __m512i softmax_saturating_shift_left16(__m512i x, int exponent) {
    __m512i threshold = _mm512_set1_epi32((int32_t)((1u << (31 - exponent)) - 1));
    __m512i shifted = _mm512_slli_epi32(x, (unsigned)exponent);
    shifted = _mm512_mask_mov_epi32(shifted, _mm512_cmpgt_epi32_mask(x, threshold), _mm512_set1_epi32(INT32_MAX));
    return _mm512_mask_mov_epi32(shifted, _mm512_cmplt_epi32_mask(x, _mm512_sub_epi32(_mm512_setzero_si512(), threshold)),
                                 _mm512_set1_epi32(INT32_MIN));
}

/// Sixteen rows at a time: the scalar code's dependent chain of multiplies is latency-bound.
__attribute__((target("avx512f,avx512cd")))
static int softmax_reciprocals_avx512(const int32_t *sums, int rows, int32_t integer_bits, int32_t *scales,
                                      int32_t *bits_over_unit) {
    int r = 0;
    for (; r + 16 <= rows; r += 16) {
        __m512i x = _mm512_loadu_si512(sums + r);
        __m512i headroom_plus_one = _mm512_lzcnt_epi32(x);  // 32 for 0
        // vpsllvd gives 0 for a count of 32, as the scalar code.
        __m512i a = _mm512_sub_epi32(_mm512_sllv_epi32(x, headroom_plus_one), _mm512_set1_epi32(INT32_MIN));
        // RoundingHalfSum(a, INT32_MAX) = (a + INT32_MAX + sign) / 2 in 64 bits: for a > INT32_MIN that
        // is (a + 2^31) / 2 truncated = (a >> 1) + 2^30; for a = INT32_MIN (a zero sum) it is -2 / 2 = -1.
        __m512i half_denominator = _mm512_add_epi32(_mm512_srai_epi32(a, 1), _mm512_set1_epi32(1 << 30));
        half_denominator = _mm512_mask_mov_epi32(half_denominator, _mm512_cmpeq_epi32_mask(a, _mm512_set1_epi32(INT32_MIN)),
                                                 _mm512_set1_epi32(-1));
        __m512i value = _mm512_add_epi32(_mm512_set1_epi32(1515870810),
                                         softmax_high_mul16(half_denominator, _mm512_set1_epi32(-1010580540)));
        for (int i = 0; i < 3; i++) {
            __m512i one_minus = _mm512_sub_epi32(_mm512_set1_epi32(1 << 29), softmax_high_mul16(half_denominator, value));
            value = _mm512_add_epi32(value, softmax_saturating_shift_left16(softmax_high_mul16(value, one_minus), 2));
        }
        _mm512_storeu_si512(scales + r, softmax_saturating_shift_left16(value, 1));
        _mm512_storeu_si512(bits_over_unit + r, _mm512_sub_epi32(_mm512_set1_epi32(integer_bits), headroom_plus_one));
    }
    return r;
}
#endif

void ck_softmax_q_reciprocals(const int32_t *sums, int rows, int32_t integer_bits, int32_t *scales,
                              int32_t *bits_over_unit, ck_isa isa) {
    int r = 0;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512 && __builtin_cpu_supports("avx512cd"))
        r = softmax_reciprocals_avx512(sums, rows, integer_bits, scales, bits_over_unit);
#endif
    (void)isa;
    for (; r < rows; r++) {
        uint32_t x = (uint32_t)sums[r];
        int headroom_plus_one = x == 0 ? 32 : __builtin_clz(x);
        uint32_t shifted = headroom_plus_one == 32 ? 0 : x << headroom_plus_one;
        scales[r] = softmax_one_over_one_plus_x((int32_t)(shifted - (1u << 31)));
        bits_over_unit[r] = integer_bits - headroom_plus_one;
    }
}
