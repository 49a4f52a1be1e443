// Run-time instruction set choice: the binary runs on any x86-64 (and on arm64) and uses AVX2/AVX-512
// only where the CPU has them.
#include "CKernels.h"


static int detected = -1;
static int forced = -1;

ck_isa ck_detected_isa(void) {
    if (detected < 0) {
        int isa = CK_ISA_PORTABLE;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = CK_ISA_AVX2_FMA;
        if (isa == CK_ISA_AVX2_FMA && __builtin_cpu_supports("avx512f")) isa = CK_ISA_AVX512;
#endif
        detected = isa;  // idempotent, so a race between threads writes the same value
    }
    return (ck_isa)detected;
}

int ck_has_avx512_vnni(void) {
#if defined(__x86_64__)
    return ck_active_isa() == CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

ck_isa ck_supported_isa(ck_isa isa) {
    ck_isa best = ck_detected_isa();
    return isa < best ? isa : best;
}

void ck_force_isa(ck_isa isa) {
    forced = (int)ck_supported_isa(isa);
}

ck_isa ck_active_isa(void) {
    return forced >= 0 ? (ck_isa)forced : ck_detected_isa();
}

const char *ck_isa_name(ck_isa isa) {
    switch (isa) {
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX2_FMA: return "avx2-fma";
    default: return "portable";
    }
}
