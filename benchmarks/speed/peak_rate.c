// The CPU's arithmetic ceiling for the kernels, on one core: fp32 FMAs per second with 512-bit and
// 256-bit vectors, and 8-bit multiply-adds per second with AVX-512 VNNI (vpdpbusd), each from 12
// independent accumulator chains in registers (no memory traffic). A model's MACs divided by these rates
// is the least time any bit-exact fp32 (or int8 VNNI) implementation can take on this core.
//   clang -O2 benchmarks/speed/peak_rate.c -o /tmp/peak_rate && /tmp/peak_rate
// Prints the best of 5 runs of each. Instructions the CPU lacks are skipped, and say so.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { CHAINS = 12 };
static volatile float float_sink;
static volatile int int_sink;

__attribute__((target("avx512f"), noinline)) static double fma512(long n) {
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps(i * 0.001f);
    const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.0001f);
    const double t = now();
    for (long i = 0; i < n; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_fmadd_ps(acc[j], b, c);
    const double seconds = now() - t;
    for (int i = 0; i < CHAINS; i++) float_sink = _mm512_reduce_add_ps(acc[i]);
    return n * (double)CHAINS * 16 / seconds;
}

__attribute__((target("avx2,fma"), noinline)) static double fma256(long n) {
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps(i * 0.001f);
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.0001f);
    const double t = now();
    for (long i = 0; i < n; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm256_fmadd_ps(acc[j], b, c);
    const double seconds = now() - t;
    float lanes[8];
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        float_sink = lanes[0];
    }
    return n * (double)CHAINS * 8 / seconds;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) static double vnni512(long n) {
    __m512i acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_epi32(i);
    const __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x02020202);
    const double t = now();
    for (long i = 0; i < n; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
    const double seconds = now() - t;
    for (int i = 0; i < CHAINS; i++) int_sink = _mm512_reduce_add_epi32(acc[i]);
    return n * (double)CHAINS * 64 / seconds;
}

typedef double (*rate_fn)(long);

static void report(const char *name, const char *unit, int available, rate_fn f) {
    if (!available) {
        printf("%-26s not available on this CPU\n", name);
        return;
    }
    double best = 0;
    for (int run = 0; run < 5; run++) {
        double rate = f(20000000);
        best = rate > best ? rate : best;
    }
    printf("%-26s %7.1f %s per second\n", name, best / 1e9, unit);
}

int main(void) {
    __builtin_cpu_init();
    report("fp32 FMA, 512-bit", "G multiply-adds", __builtin_cpu_supports("avx512f"), fma512);
    report("fp32 FMA, 256-bit", "G multiply-adds", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), fma256);
    report("int8 vpdpbusd, 512-bit", "G multiply-adds",
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"), vnni512);
    return 0;
}
