// Byte-to-byte table lookups of 8-bit element-wise ops whose result depends only on the input byte
// (QUANTIZE from one 8-bit type to another: Sources/Inference/Kernels/Optimized/OptimizedQuantizedQuantize.swift).
// With AVX-512 VBMI, 64 bytes per step: two vpermi2b look up the table's lower and upper 128 entries
// by the low 7 bits, and each byte's top bit picks between them.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static void lookup_bytes_vbmi(const uint8_t *x, ptrdiff_t count, const uint8_t *table, uint8_t *y) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    for (ptrdiff_t i = 0; i < count; i += 64) {
        const ptrdiff_t left = count - i;
        const __mmask64 k = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        const __m512i v = _mm512_maskz_loadu_epi8(k, x + i);
        const __m512i low = _mm512_permutex2var_epi8(t0, v, t1), high = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_mask_storeu_epi8(y + i, k, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high));
    }
}
#endif

void ck_lookup_bytes(const uint8_t *input, ptrdiff_t count, const uint8_t *table, uint8_t *output, ck_isa isa) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) {
        lookup_bytes_vbmi(input, count, table, output);
        return;
    }
#endif
    (void)isa;
    for (ptrdiff_t i = 0; i < count; i++) output[i] = table[input[i]];
}
