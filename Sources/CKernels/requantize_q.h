// TFLite's requantization (MultiplyByQuantizedMultiplier, double rounding) of int32 accumulators to
// 8-bit outputs, shared by the 8-bit GEMM and depthwise kernels: one scalar version and 16/8-lane
// AVX-512/AVX2 versions giving identical results.
//
// SaturatingRoundingDoublingHighMul(a, b) is trunc((a*b + nudge) / 2^31) with nudge 2^30 or 1 - 2^30
// by the product's sign; for every 64-bit product both cases equal floor((a*b + 2^30) / 2^31), an
// arithmetic shift, so the vector versions need no division and no sign test. The one overflowing
// case, INT32_MIN * INT32_MIN, saturates to INT32_MAX.
#ifndef CKERNELS_REQUANTIZE_Q_H
#define CKERNELS_REQUANTIZE_Q_H

#include <string.h>
#include "CKernels.h"

static inline int32_t requantize_clamped(int32_t accumulator, int channel, const ck_requant *rq) {
    int32_t value = ck_requantize(accumulator, rq->significand[channel], rq->shift[channel]);
    value = (int32_t)((uint32_t)value + (uint32_t)rq->output_offset);
    value = value < rq->activation_min ? rq->activation_min : value;
    return value > rq->activation_max ? rq->activation_max : value;
}

/// Stores requantized acc[j] (already including bias) as channel first + j, j < count.
static inline void requantize_store_scalar(const int32_t *acc, const ck_requant *rq, void *out, int first, int count) {
    for (int j = 0; j < count; j++) {
        int32_t value = requantize_clamped(acc[j], first + j, rq);
        if (rq->is_signed) ((int8_t *)out)[first + j] = (int8_t)value;
        else ((uint8_t *)out)[first + j] = (uint8_t)value;
    }
}

/// Whether the activation clamp lies within the element type's range: the narrow epilogues' saturating
/// packs then cut only what the clamp would.
static inline int narrow_clamp_fits(const ck_requant *rq) {
    const int32_t low = rq->is_signed ? -128 : 0, high = rq->is_signed ? 127 : 255;
    return rq->activation_min >= low && rq->activation_max <= high && rq->activation_min <= rq->activation_max;
}

/// Whether the narrow requantizations may skip their correction for negative values (RoundingDivideByPOT
/// rounds ties away from zero; uncorrected, a negative tie rounds up): for a high product h < 0 both
/// roundings give at most 0, so at most the output offset, and an activation clamp starting at or above
/// the offset (relu, relu6: activation_min is the offset) turns both into activation_min.
static inline int narrow_ties_clamped(const ck_requant *rq) { return rq->activation_min >= rq->output_offset; }

/// Whether channel c's accumulators, all with |acc| <= bound, may take the narrow requantization (narrow16,
/// narrow8): |acc| < 2^30, a right shift only (0...31), a non-negative significand, and |high product|
/// (<= bound + 1) + rounding half + |output offset| * 2^right within int32. A zero significand makes every
/// product 0, however large (or wrapped, when doubled) the accumulator.
static inline int narrow_channel_fits(const ck_requant *rq, int c, int64_t bound) {
    const int32_t shift = rq->shift[c];
    if (rq->significand[c] == 0) bound = 0;
    if (bound >= (1ll << 30) || shift > 0 || shift < -31 || rq->significand[c] < 0) return 0;
    const int64_t right = -shift;
    return bound + 1 + ((1ll << right) >> 1) + (rq->output_offset < 0 ? -(int64_t)rq->output_offset : rq->output_offset)
        * (1ll << right) < (1ll << 31);
}

/// Whether channel c outputs clamp(output offset) for every accumulator in [low, high]. With a significand
/// >= 0 and no left shift (which wraps), requantization never decreases as the accumulator grows, nor do the
/// offset add (while it cannot wrap: both ends' values within 2^30) and the clamp, so the two ends decide.
static inline int constant_channel(const ck_requant *rq, int c, int64_t low, int64_t high) {
    if (rq->significand[c] < 0 || rq->shift[c] > 0 || low < INT32_MIN || high > INT32_MAX) return 0;
    const int32_t first = ck_requantize((int32_t)low, rq->significand[c], rq->shift[c]);
    const int32_t last = ck_requantize((int32_t)high, rq->significand[c], rq->shift[c]);
    if (first < -(1 << 30) || last > (1 << 30)) return 0;
    int32_t offset = rq->output_offset < rq->activation_min ? rq->activation_min : rq->output_offset;
    offset = offset > rq->activation_max ? rq->activation_max : offset;
    return requantize_clamped((int32_t)low, c, rq) == offset && requantize_clamped((int32_t)high, c, rq) == offset;
}

/// Gives channel c the multiplier 0 (significand and shift 0, in the arrays `rq` points to) when its output
/// is the same for every accumulator in [low, high] it can reach and that output is clamp(output offset),
/// the one a zero multiplier gives: dead relu channels (a large negative bias) and channels with a tiny
/// multiplier. Every kernel path then still gives the reference's outputs, and the narrow requantization
/// no longer has to bound these channels' accumulators (often near 2^30) or offsets (shifted by up to 31).
static inline int fold_constant_channel(const ck_requant *rq, int c, int64_t low, int64_t high, int32_t *significand,
                                        int32_t *shift) {
    if (rq->significand[c] == 0 && rq->shift[c] == 0) return 0;
    if (!constant_channel(rq, c, low, high)) return 0;
    significand[c] = 0;
    shift[c] = 0;
    return 1;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512_Q "avx512f,avx512bw,avx512vl"

/// The per-channel constants of 16 channels [first, first + 16), prepared once and reused for every row
/// of a GEMM block (significand/shift must be readable there: callers pad them to a multiple of 16).
typedef struct {
    __m512i significand, left, right, mask, threshold;
} requant16_channels;

__attribute__((target(CK_AVX512_Q)))
static inline requant16_channels requant16_prepare(const ck_requant *rq, int first) {
    const __m512i shift = _mm512_loadu_si512(rq->shift + first), zero = _mm512_setzero_si512();
    requant16_channels c;
    c.significand = _mm512_loadu_si512(rq->significand + first);
    c.left = _mm512_max_epi32(shift, zero);
    c.right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    c.mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), c.right), _mm512_set1_epi32(1));
    c.threshold = _mm512_srai_epi32(c.mask, 1);
    return c;
}

/// Requantized, offset and clamped int32 values of 16 accumulators.
/// The last steps of requantization from the doubled high product `high`: RoundingDivideByPOT by the
/// channel's right shift (the threshold is one higher for negative values), output offset, clamp.
__attribute__((target(CK_AVX512_Q)))
static inline __m512i requantize16_finish(__m512i high, const requant16_channels *c, const ck_requant *rq) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i remainder = _mm512_and_si512(high, c->mask);
    const __m512i threshold = _mm512_mask_add_epi32(c->threshold, _mm512_cmplt_epi32_mask(high, _mm512_setzero_si512()), c->threshold, one);
    __m512i value = _mm512_srav_epi32(high, c->right);
    value = _mm512_mask_add_epi32(value, _mm512_cmpgt_epi32_mask(remainder, threshold), value, one);
    value = _mm512_add_epi32(value, _mm512_set1_epi32(rq->output_offset));
    value = _mm512_max_epi32(value, _mm512_set1_epi32(rq->activation_min));
    return _mm512_min_epi32(value, _mm512_set1_epi32(rq->activation_max));
}

__attribute__((target(CK_AVX512_Q)))
static inline __m512i requantize16(__m512i acc, const requant16_channels *c, const ck_requant *rq) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i x = _mm512_sllv_epi32(acc, c->left);  // wraps, as the reference's int32 multiply by 2^left
    // 64-bit products of even lanes, then of odd lanes moved down.
    const __m512i nudge = _mm512_set1_epi64(1LL << 30);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, c->significand), nudge);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(c->significand, 32)), nudge);
    // Bits 31..62 of each product: low half of even >> 31, high half of odd << 1.
    __m512i high = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
    // Only INT32_MIN * INT32_MIN (2^62) yields INT32_MIN here (every other product is > -2^62 + 2^31):
    // minus one wraps it to the saturated INT32_MAX.
    high = _mm512_mask_sub_epi32(high, _mm512_cmpeq_epi32_mask(high, _mm512_set1_epi32(INT32_MIN)), high, one);
    return requantize16_finish(high, c, rq);
}

/// Stores `count` (<= 16) requantized channels starting at `first` into the 8-bit row `out`.
__attribute__((target(CK_AVX512_Q)))
static inline void store16(__m512i value, void *out, int first, int count) {
    __mmask16 lanes = count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
    _mm512_mask_cvtepi32_storeu_epi8((char *)out + first, lanes, value);  // in range after the clamp
}

/// Requantizes and stores `count` (<= 16) channels starting at `first` into the 8-bit row `out`.
__attribute__((target(CK_AVX512_Q)))
static inline void requantize_store16(__m512i acc, const requant16_channels *c, const ck_requant *rq, void *out,
                                      int first, int count) {
    store16(requantize16(acc, c, rq), out, first, count);
}

/// The narrow requantization of the 8-bit GEMM, for layers where every accumulator is proven to satisfy
/// |acc| < 2^30 and every channel has a right shift r only (0...31) and a significand s >= 0, with
/// |high product| + 2^(r-1) + |output offset| * 2^r < 2^31 (gemm_q.c checks this per call). Then the whole
/// of requantization plus the output offset is one 64-bit rounding add and one shift:
///   2*acc*s + 2^31 + c*2^32 has the high half floor((acc*s + 2^30) / 2^31) + c (SaturatingRoundingDoublingHighMul,
///   2*acc fits int32), with c = 2^(r-1) + offset*2^r; RoundingDivideByPOT(h, r) + offset is
///   (h + c - [h < 0]) >> r for r >= 1, and [h < 0] may be read as [acc < 0]: with s >= 0 they differ only
///   when h = 0, where (c - 1) >> r still gives the offset. For r = 0 nothing is subtracted.
typedef struct {
    __m512i significand_even, significand_odd, rounding_even, rounding_odd, negative_adjust, right;
} narrow16_channels;

/// The constants for 16 lanes whose channels have these significands and shifts (any lane order).
__attribute__((target(CK_AVX512_Q)))
static inline narrow16_channels narrow16_lanes(__m512i significand, __m512i shift, const ck_requant *rq) {
    const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
    narrow16_channels c;
    c.right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(one, c.right), 1);
    const __m512i offset = _mm512_sllv_epi32(_mm512_set1_epi32(rq->output_offset), c.right);
    const __m512i rounding = _mm512_add_epi32(half, offset);  // c of each channel, in int32 by the check
    const __m512i low_bit31 = _mm512_set1_epi64(1LL << 31);
    c.rounding_even = _mm512_add_epi64(_mm512_slli_epi64(rounding, 32), low_bit31);
    c.rounding_odd = _mm512_add_epi64(_mm512_and_si512(rounding, _mm512_set1_epi64((long long)0xFFFFFFFF00000000ull)), low_bit31);
    c.significand_even = significand;
    c.significand_odd = _mm512_srli_epi64(significand, 32);
    c.negative_adjust = _mm512_min_epu32(c.right, one);
    return c;
}

__attribute__((target(CK_AVX512_Q)))
static inline narrow16_channels narrow16_prepare(const ck_requant *rq, int first) {
    return narrow16_lanes(_mm512_loadu_si512(rq->significand + first), _mm512_loadu_si512(rq->shift + first), rq);
}

/// Requantized values plus the output offset, not yet clamped (in int32 by the check). `ties_clamped`
/// (narrow_ties_clamped): negative values are left uncorrected, as the clamp removes them.
__attribute__((target(CK_AVX512_Q)))
static inline __m512i narrow16(__m512i acc, const narrow16_channels *c, const int ties_clamped) {
    const __m512i doubled = _mm512_add_epi32(acc, acc);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(doubled, c->significand_even), c->rounding_even);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_shuffle_epi32(doubled, _MM_PERM_DDBB), c->significand_odd),
                                         c->rounding_odd);
    // The high halves: lane 2i from even's qword i, lane 2i + 1 from odd's.
    const __m512i pick = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    __m512i high = _mm512_permutex2var_epi32(even, pick, odd);
    if (!ties_clamped) high = _mm512_sub_epi32(high, _mm512_and_si512(_mm512_srli_epi32(acc, 31), c->negative_adjust));
    return _mm512_srav_epi32(high, c->right);
}

/// Two vectors of int16 words to bytes (per 128-bit lane: a's eight, then b's), saturating to the element
/// type and clamped to the activation range (`is_signed`: rq->is_signed, a constant where the caller has
/// one). The saturating packs only cut values the activation clamp (inside the type's range) would cut
/// anyway, so the result equals clamping first.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline __m512i pack_words_clamped(__m512i a, __m512i b, const ck_requant *rq, const int is_signed) {
    if (is_signed) {
        const __m512i bytes = _mm512_max_epi8(_mm512_packs_epi16(a, b), _mm512_set1_epi8((char)rq->activation_min));
        return _mm512_min_epi8(bytes, _mm512_set1_epi8((char)rq->activation_max));
    }
    const __m512i bytes = _mm512_max_epu8(_mm512_packus_epi16(a, b), _mm512_set1_epi8((char)rq->activation_min));
    return _mm512_min_epu8(bytes, _mm512_set1_epi8((char)rq->activation_max));
}

/// Four vectors of narrow16 values to 64 clamped bytes, vector j in bytes 16j...16j+15.
__attribute__((target(CK_AVX512_Q)))
static inline __m512i pack64_clamped(const __m512i v[4], const ck_requant *rq) {
    const __m512i low = _mm512_packs_epi32(v[0], v[1]), high = _mm512_packs_epi32(v[2], v[3]);
    // The packs interleave by 128-bit lane: vector j's lane L lands in dword 4L + j; transpose back.
    const __m512i transpose = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(transpose, pack_words_clamped(low, high, rq, rq->is_signed));
}

/// 8-lane AVX2 versions.
typedef struct {
    __m256i significand, left, right, mask, threshold;
} requant8_channels;

__attribute__((target("avx2")))
static inline requant8_channels requant8_prepare(const ck_requant *rq, int first) {
    const __m256i shift = _mm256_loadu_si256((const __m256i *)(rq->shift + first)), zero = _mm256_setzero_si256();
    requant8_channels c;
    c.significand = _mm256_loadu_si256((const __m256i *)(rq->significand + first));
    c.left = _mm256_max_epi32(shift, zero);
    c.right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    c.mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), c.right), _mm256_set1_epi32(1));
    c.threshold = _mm256_srai_epi32(c.mask, 1);
    return c;
}

__attribute__((target("avx2")))
static inline __m256i requantize8(__m256i acc, const requant8_channels *c, const ck_requant *rq) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i x = _mm256_sllv_epi32(acc, c->left);
    const __m256i nudge = _mm256_set1_epi64x(1LL << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, c->significand), nudge);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(c->significand, 32)), nudge);
    __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    // cmpeq yields -1 where true: INT32_MIN (only from INT32_MIN * INT32_MIN) + -1 wraps to INT32_MAX.
    high = _mm256_add_epi32(high, _mm256_cmpeq_epi32(high, _mm256_set1_epi32(INT32_MIN)));
    const __m256i remainder = _mm256_and_si256(high, c->mask);
    // cmpgt yields -1 for true: subtracting it adds one.
    const __m256i threshold = _mm256_sub_epi32(c->threshold, _mm256_cmpgt_epi32(zero, high));
    __m256i value = _mm256_sub_epi32(_mm256_srav_epi32(high, c->right), _mm256_cmpgt_epi32(remainder, threshold));
    value = _mm256_add_epi32(value, _mm256_set1_epi32(rq->output_offset));
    value = _mm256_max_epi32(value, _mm256_set1_epi32(rq->activation_min));
    return _mm256_min_epi32(value, _mm256_set1_epi32(rq->activation_max));
}

/// AVX2 version of narrow16 (the same conditions, the same values): 8 lanes.
typedef struct {
    __m256i significand_even, significand_odd, rounding_even, rounding_odd, negative_adjust, right;
} narrow8_channels;

__attribute__((target("avx2")))
static inline narrow8_channels narrow8_prepare(const ck_requant *rq, int first) {
    const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
    const __m256i significand = _mm256_loadu_si256((const __m256i *)(rq->significand + first));
    narrow8_channels c;
    c.right = _mm256_max_epi32(_mm256_sub_epi32(zero, _mm256_loadu_si256((const __m256i *)(rq->shift + first))), zero);
    const __m256i half = _mm256_srli_epi32(_mm256_sllv_epi32(one, c.right), 1);
    const __m256i offset = _mm256_sllv_epi32(_mm256_set1_epi32(rq->output_offset), c.right);
    const __m256i rounding = _mm256_add_epi32(half, offset);
    const __m256i low_bit31 = _mm256_set1_epi64x(1LL << 31);
    c.rounding_even = _mm256_add_epi64(_mm256_slli_epi64(rounding, 32), low_bit31);
    c.rounding_odd = _mm256_add_epi64(_mm256_and_si256(rounding, _mm256_set1_epi64x((long long)0xFFFFFFFF00000000ull)), low_bit31);
    c.significand_even = significand;
    c.significand_odd = _mm256_srli_epi64(significand, 32);
    c.negative_adjust = _mm256_min_epu32(c.right, one);
    return c;
}

__attribute__((target("avx2")))
static inline __m256i narrow8(__m256i acc, const narrow8_channels *c, const int ties_clamped) {
    const __m256i doubled = _mm256_add_epi32(acc, acc);
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(doubled, c->significand_even), c->rounding_even);
    const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(doubled, _MM_PERM_DDBB), c->significand_odd),
                                         c->rounding_odd);
    // The high halves: lane 2i from even's qword i (moved down), lane 2i + 1 from odd's (already there).
    __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    if (!ties_clamped)
        high = _mm256_sub_epi32(high, _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), acc), c->negative_adjust));
    return _mm256_srav_epi32(high, c->right);
}

/// Two vectors of narrow8 values (channels first...first + 7, first + 8...first + 15) clamped and stored
/// as `count` (<= 16) bytes; the saturating packs only cut what the activation clamp would (pack64_clamped).
__attribute__((target("avx2")))
static inline void store16_narrow(__m256i v0, __m256i v1, const ck_requant *rq, void *out, int first, int count) {
    // packs interleave by 128-bit lane: dwords (v0 0-3, v1 0-3 | v0 4-7, v1 4-7) after both packs.
    const __m256i words = _mm256_packs_epi32(v0, v1);
    __m256i bytes = rq->is_signed ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
    __m128i low = _mm256_castsi256_si128(bytes);
    if (rq->is_signed) {
        low = _mm_max_epi8(low, _mm_set1_epi8((char)rq->activation_min));
        low = _mm_min_epi8(low, _mm_set1_epi8((char)rq->activation_max));
    } else {
        low = _mm_max_epu8(low, _mm_set1_epi8((char)rq->activation_min));
        low = _mm_min_epu8(low, _mm_set1_epi8((char)rq->activation_max));
    }
    if (count >= 16) _mm_storeu_si128((__m128i *)((char *)out + first), low);
    else {
        char bytes16[16];
        _mm_storeu_si128((__m128i *)bytes16, low);
        memcpy((char *)out + first, bytes16, (size_t)count);
    }
}

/// Requantizes and stores `count` (<= 8) channels starting at `first`.
__attribute__((target("avx2")))
static inline void requantize_store8(__m256i acc, const requant8_channels *c, const ck_requant *rq, void *out,
                                     int first, int count) {
    __m256i value = requantize8(acc, c, rq);
    // Low byte of each lane to the first 4 bytes of each 128-bit half, then both halves together.
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(value, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    uint64_t packed = (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(bytes));
    memcpy((char *)out + first, &packed, (size_t)(count < 8 ? count : 8));
}
#endif

#endif
