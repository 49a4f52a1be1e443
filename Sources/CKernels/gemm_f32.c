// Float GEMM for convolutions: C = clamp(A * W^T + bias). W is packed once at load into panels of 16
// output channels so the inner loop reads weights contiguously; each micro-kernel keeps a block of C
// in registers for the whole K loop (one pass over A's rows and the panels).
#include <string.h>
#include "CKernels.h"


// A work unit: TILE_ROWS rows of A by TILE_PANELS panels; a multiple of every micro-kernel's size.
#define TILE_ROWS 24
#define TILE_PANELS 4

static inline int panel_count(int n) { return (n + CK_PANEL_WIDTH - 1) / CK_PANEL_WIDTH; }
static inline size_t panel_stride(int k) { return (size_t)CK_PANEL_WIDTH * (size_t)(k + 1); }

size_t ck_packed_f32_count(int n, int k) { return (size_t)panel_count(n) * panel_stride(k); }

void ck_pack_f32(const float *weights, const float *bias, int n, int k, float *packed) {
    memset(packed, 0, ck_packed_f32_count(n, k) * sizeof(float));
    for (int channel = 0; channel < n; channel++) {
        float *panel = packed + (size_t)(channel / CK_PANEL_WIDTH) * panel_stride(k);
        int lane = channel % CK_PANEL_WIDTH;
        panel[lane] = bias ? bias[channel] : 0.0f;
        for (int i = 0; i < k; i++) panel[CK_PANEL_WIDTH * (size_t)(i + 1) + lane] = weights[(size_t)channel * k + i];
    }
}

int ck_gemm_f32_tile_count(int m, int n) {
    return ((m + TILE_ROWS - 1) / TILE_ROWS) * ((panel_count(n) + TILE_PANELS - 1) / TILE_PANELS);
}

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// Rows past the end of A reuse its last row and write to a scratch row, so every micro-kernel is full.
static inline void row_pointers(const float *a, ptrdiff_t lda, float *c, ptrdiff_t ldc, int row, int rows,
                                int count, const float **ap, float **cp, float *scratch) {
    for (int r = 0; r < count; r++) {
        int valid = r < rows;
        ap[r] = a + (ptrdiff_t)(row + (valid ? r : rows - 1)) * lda;
        cp[r] = valid ? c + (ptrdiff_t)(row + r) * ldc : scratch;
    }
}

// MARK: - Portable (any CPU; the compiler vectorizes the 16-wide loops with SSE2 or NEON)

#define MR_PORTABLE 4

static void block_portable(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                           int n, int panel0, int panel1, float *c, ptrdiff_t ldc, float lo, float hi) {
    float scratch[CK_PANEL_WIDTH * 2];
    for (int row = row0; row < row1; row += MR_PORTABLE) {
        const float *ap[MR_PORTABLE];
        float *cp[MR_PORTABLE];
        int rows = row1 - row < MR_PORTABLE ? row1 - row : MR_PORTABLE;
        row_pointers(a, lda, c, ldc, row, rows, MR_PORTABLE, ap, cp, scratch);
        for (int p = panel0; p < panel1; p++) {
            const float *panel = packed + (size_t)p * panel_stride(k);
            float acc[MR_PORTABLE][CK_PANEL_WIDTH] = {{0}};
            for (int i = 0; i < k; i++) {
                const float *w = panel + CK_PANEL_WIDTH * (size_t)(i + 1);
                for (int r = 0; r < MR_PORTABLE; r++) {
                    float x = ap[r][i];
                    for (int j = 0; j < CK_PANEL_WIDTH; j++) acc[r][j] += x * w[j];
                }
            }
            int cols = n - p * CK_PANEL_WIDTH;
            if (cols > CK_PANEL_WIDTH) cols = CK_PANEL_WIDTH;
            for (int r = 0; r < MR_PORTABLE; r++) {
                float *out = cp[r] == scratch ? scratch : cp[r] + p * CK_PANEL_WIDTH;
                for (int j = 0; j < cols; j++) out[j] = clampf(acc[r][j] + panel[j], lo, hi);
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// MARK: - AVX2 + FMA: 6 rows x 16 channels (12 accumulators, 2 weight registers, 1 broadcast)

#define MR_AVX2 6

__attribute__((target("avx2,fma")))
static void block_avx2(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                       int n, int panel0, int panel1, float *c, ptrdiff_t ldc, float lo, float hi) {
    float scratch[CK_PANEL_WIDTH * 2];
    const __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int row = row0; row < row1; row += MR_AVX2) {
        const float *ap[MR_AVX2];
        float *cp[MR_AVX2];
        int rows = row1 - row < MR_AVX2 ? row1 - row : MR_AVX2;
        row_pointers(a, lda, c, ldc, row, rows, MR_AVX2, ap, cp, scratch);
        for (int p = panel0; p < panel1; p++) {
            const float *panel = packed + (size_t)p * panel_stride(k);
            const float *w = panel + CK_PANEL_WIDTH;
            __m256 acc[MR_AVX2][2];
            for (int r = 0; r < MR_AVX2; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            for (int i = 0; i < k; i++, w += CK_PANEL_WIDTH) {
                __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
                for (int r = 0; r < MR_AVX2; r++) {
                    __m256 x = _mm256_broadcast_ss(ap[r] + i);
                    acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
                }
            }
            __m256 b0 = _mm256_loadu_ps(panel), b1 = _mm256_loadu_ps(panel + 8);
            int cols = n - p * CK_PANEL_WIDTH;
            for (int r = 0; r < MR_AVX2; r++) {
                __m256 y0 = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(acc[r][0], b0), low), high);
                __m256 y1 = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(acc[r][1], b1), low), high);
                float *out = cp[r] == scratch ? scratch : cp[r] + p * CK_PANEL_WIDTH;
                if (cols >= CK_PANEL_WIDTH) {
                    _mm256_storeu_ps(out, y0);
                    _mm256_storeu_ps(out + 8, y1);
                } else {
                    float tail[CK_PANEL_WIDTH];
                    _mm256_storeu_ps(tail, y0);
                    _mm256_storeu_ps(tail + 8, y1);
                    memcpy(out, tail, (size_t)cols * sizeof(float));
                }
            }
        }
    }
}

// MARK: - AVX-512: 12 rows x 32 channels (24 accumulators) or 12 x 16 for a last odd panel

#define MR_AVX512 12

static inline __mmask16 lane_mask(int cols) {
    if (cols <= 0) return 0;
    return cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
}

__attribute__((target("avx512f"), always_inline))
static inline void micro_avx512(const float *const *ap, float *const *cp, const float *scratch, int k,
                                const float *panel, size_t stride, int panels, int cols, int column,
                                __m512 low, __m512 high) {
    __m512 acc0[MR_AVX512], acc1[MR_AVX512];
    for (int r = 0; r < MR_AVX512; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
    const float *w0 = panel + CK_PANEL_WIDTH, *w1 = panel + stride + CK_PANEL_WIDTH;
    if (panels == 2) {
        for (int i = 0; i < k; i++) {
            __m512 v0 = _mm512_loadu_ps(w0 + (size_t)i * CK_PANEL_WIDTH);
            __m512 v1 = _mm512_loadu_ps(w1 + (size_t)i * CK_PANEL_WIDTH);
            for (int r = 0; r < MR_AVX512; r++) {
                __m512 x = _mm512_set1_ps(ap[r][i]);
                acc0[r] = _mm512_fmadd_ps(x, v0, acc0[r]);
                acc1[r] = _mm512_fmadd_ps(x, v1, acc1[r]);
            }
        }
    } else {
        for (int i = 0; i < k; i++) {
            __m512 v0 = _mm512_loadu_ps(w0 + (size_t)i * CK_PANEL_WIDTH);
            for (int r = 0; r < MR_AVX512; r++)
                acc0[r] = _mm512_fmadd_ps(_mm512_set1_ps(ap[r][i]), v0, acc0[r]);
        }
    }
    __m512 b0 = _mm512_loadu_ps(panel);
    __m512 b1 = panels == 2 ? _mm512_loadu_ps(panel + stride) : _mm512_setzero_ps();
    __mmask16 m0 = lane_mask(cols), m1 = panels == 2 ? lane_mask(cols - 16) : 0;
    for (int r = 0; r < MR_AVX512; r++) {
        float *out = cp[r] == scratch ? (float *)scratch : cp[r] + column;
        _mm512_mask_storeu_ps(out, m0, _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(acc0[r], b0), low), high));
        if (panels == 2)
            _mm512_mask_storeu_ps(out + 16, m1,
                                  _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(acc1[r], b1), low), high));
    }
}

__attribute__((target("avx512f")))
static void block_avx512(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                         int n, int panel0, int panel1, float *c, ptrdiff_t ldc, float lo, float hi) {
    float scratch[CK_PANEL_WIDTH * 2];
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    size_t stride = panel_stride(k);
    for (int row = row0; row < row1; row += MR_AVX512) {
        const float *ap[MR_AVX512];
        float *cp[MR_AVX512];
        int rows = row1 - row < MR_AVX512 ? row1 - row : MR_AVX512;
        row_pointers(a, lda, c, ldc, row, rows, MR_AVX512, ap, cp, scratch);
        int p = panel0;
        for (; p + 2 <= panel1; p += 2)
            micro_avx512(ap, cp, scratch, k, packed + (size_t)p * stride, stride, 2, n - p * CK_PANEL_WIDTH,
                         p * CK_PANEL_WIDTH, low, high);
        if (p < panel1)
            micro_avx512(ap, cp, scratch, k, packed + (size_t)p * stride, stride, 1, n - p * CK_PANEL_WIDTH,
                         p * CK_PANEL_WIDTH, low, high);
    }
}
#endif

void ck_gemm_f32(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n,
                 float *c, ptrdiff_t ldc, float lo, float hi, int tile_begin, int tile_end) {
    int panels = panel_count(n);
    int column_tiles = (panels + TILE_PANELS - 1) / TILE_PANELS;
    ck_isa isa = ck_active_isa();
    for (int t = tile_begin; t < tile_end; t++) {
        int row0 = (t / column_tiles) * TILE_ROWS, panel0 = (t % column_tiles) * TILE_PANELS;
        int row1 = row0 + TILE_ROWS < m ? row0 + TILE_ROWS : m;
        int panel1 = panel0 + TILE_PANELS < panels ? panel0 + TILE_PANELS : panels;
#if defined(__x86_64__)
        if (isa == CK_ISA_AVX512) {
            block_avx512(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, lo, hi);
            continue;
        }
        if (isa == CK_ISA_AVX2_FMA) {
            block_avx2(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, lo, hi);
            continue;
        }
#endif
        (void)isa;
        block_portable(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, lo, hi);
    }
}
