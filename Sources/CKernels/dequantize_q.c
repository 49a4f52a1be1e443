// DEQUANTIZE of 8-bit values (Sources/Inference/Kernels/Optimized/OptimizedQuantizedDequantize.swift):
// output = float(x - zero_point) * scale, one IEEE single multiply per element on every path, so the
// results are the same bits everywhere (the caller checks them against the reference for all 256 inputs).
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static ptrdiff_t dequantize_avx512(const uint8_t *x, int is_signed, ptrdiff_t count, int32_t zero_point, float scale,
                                   float *y) {
    __m512i zero16 = _mm512_set1_epi32(zero_point);
    __m512 scale16 = _mm512_set1_ps(scale);
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(x + i));
        __m512i v = is_signed ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, zero16)), scale16));
    }
    return i;
}

__attribute__((target("avx2")))
static ptrdiff_t dequantize_avx2(const uint8_t *x, int is_signed, ptrdiff_t count, int32_t zero_point, float scale,
                                 float *y) {
    __m256i zero8 = _mm256_set1_epi32(zero_point);
    __m256 scale8 = _mm256_set1_ps(scale);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i bytes = _mm_loadl_epi64((const __m128i *)(x + i));
        __m256i v = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zero8)), scale8));
    }
    return i;
}
#endif

void ck_dequantize_q(const void *input, int is_signed, ptrdiff_t count, int32_t zero_point, float scale,
                     float *output, ck_isa isa) {
    const uint8_t *x = (const uint8_t *)input;
    ptrdiff_t i = 0;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) i = dequantize_avx512(x, is_signed, count, zero_point, scale, output);
    else if (isa >= CK_ISA_AVX2_FMA) i = dequantize_avx2(x, is_signed, count, zero_point, scale, output);
#endif
    (void)isa;
    for (; i < count; i++) {
        int32_t v = is_signed ? (int32_t)(int8_t)x[i] : (int32_t)x[i];
        output[i] = (float)(int32_t)((uint32_t)v - (uint32_t)zero_point) * scale;  // wraps as Swift's &-
    }
}
