// Float GEMM for convolutions: C = clamp(A * W^T + bias). W is packed once at load into panels of 16
// output channels so the inner loop reads weights contiguously; each micro-kernel keeps a block of C
// in registers for the whole K loop (one pass over A's rows and the panels).
#include <string.h>
#include "CKernels.h"


// A work unit: TILE_ROWS rows of A by TILE_PANELS panels (all panels up to WHOLE_ROW_PANELS, below);
// a multiple of every micro-kernel's size.
#define TILE_ROWS 24
#define TILE_PANELS 6

static inline int panel_count(int n) { return (n + CK_PANEL_WIDTH - 1) / CK_PANEL_WIDTH; }
static inline size_t panel_stride(int k) { return (size_t)CK_PANEL_WIDTH * (size_t)(k + 1); }

static inline size_t panels_count(int n, int k) { return (size_t)panel_count(n) * panel_stride(k); }

// Layers whose last panel holds 8 channels (the SSD heads' and the 24-channel projections') waste half
// of every multiply-add on it. For AVX-512 those channels are also packed as a pair panel: a line of
// bias (lanes 0-7), then per pair of K steps one line whose lane 2j holds channel j's weight at the even
// step and lane 2j + 1 at the odd one (0 past k). Broadcasting A's two values as one 64-bit pair feeds all
// 16 lanes; adding lanes 2j and 2j + 1 at the end gives channel j. Needs the 24-row kernel's strided A
// addresses to pay: 75x75 96->24 and 144->24 0.87-0.93x (conv_f32_ab.sh), person chains 3-5 and 6-9
// 0.97x in the model; loaded through a pointer per row it was no faster.
static inline int has_pair_panel(int n) { return n > CK_PANEL_WIDTH && n % CK_PANEL_WIDTH == 8; }
static inline size_t pair_panel_count(int k) { return (size_t)CK_PANEL_WIDTH * (size_t)(1 + (k + 1) / 2); }

size_t ck_packed_f32_count(int n, int k) {
    return panels_count(n, k) + (has_pair_panel(n) ? pair_panel_count(k) : 0);
}

void ck_pack_f32(const float *weights, const float *bias, int n, int k, float *packed) {
    memset(packed, 0, ck_packed_f32_count(n, k) * sizeof(float));
    for (int channel = 0; channel < n; channel++) {
        float *panel = packed + (size_t)(channel / CK_PANEL_WIDTH) * panel_stride(k);
        int lane = channel % CK_PANEL_WIDTH;
        panel[lane] = bias ? bias[channel] : 0.0f;
        for (int i = 0; i < k; i++) panel[CK_PANEL_WIDTH * (size_t)(i + 1) + lane] = weights[(size_t)channel * k + i];
    }
    if (has_pair_panel(n)) {
        float *pairs = packed + panels_count(n, k);
        for (int j = 0; j < 8; j++) {
            int channel = n - 8 + j;
            pairs[j] = bias ? bias[channel] : 0.0f;
            for (int i = 0; i < k; i++)
                pairs[CK_PANEL_WIDTH * (size_t)(1 + i / 2) + 2 * j + (i & 1)] = weights[(size_t)channel * k + i];
        }
    }
}

// The 8-bit GEMM's units (24 rows x 4 panels); it shares this count, the float GEMM has its own below.
int ck_gemm_f32_tile_count(int m, int n) { return ((m + 23) / 24) * ((panel_count(n) + 3) / 4); }

// Up to WHOLE_ROW_PANELS panels a unit spans all of C's columns, so its rows are written as one
// contiguous run; wider layers keep 6-panel units, whose weights stay in cache for all of A's rows.
#ifndef WHOLE_ROW_PANELS
#define WHOLE_ROW_PANELS 12
#endif
static inline int tile_panels(int n) { return panel_count(n) <= WHOLE_ROW_PANELS ? panel_count(n) : TILE_PANELS; }

int ck_gemm_f32_unit_count(int m, int n) {
    return ((m + TILE_ROWS - 1) / TILE_ROWS) * ((panel_count(n) + tile_panels(n) - 1) / tile_panels(n));
}

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// The residual's rows and columns follow C's; NULL (no residual) stays NULL.
static inline const float *residual_at(const float *res, ptrdiff_t offset) { return res ? res + offset : res; }

// Rows past the end of A reuse its last row, so every micro-kernel is full; their results are not stored.
static inline void row_pointers(const float *a, ptrdiff_t lda, int row, int rows, int count, const float **ap) {
    for (int r = 0; r < count; r++) ap[r] = a + (ptrdiff_t)(row + (r < rows ? r : rows - 1)) * lda;
}

// MARK: - Portable (any CPU; the compiler vectorizes the 16-wide loops with SSE2 or NEON)

#define MR_PORTABLE 4

static void block_portable(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                           int n, int panel0, int panel1, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                           float lo, float hi) {
    for (int row = row0; row < row1; row += MR_PORTABLE) {
        const float *ap[MR_PORTABLE];
        int rows = row1 - row < MR_PORTABLE ? row1 - row : MR_PORTABLE;
        row_pointers(a, lda, row, rows, MR_PORTABLE, ap);
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
                if (r >= rows) continue;
                float *out = c + (ptrdiff_t)(row + r) * ldc + p * CK_PANEL_WIDTH;
                const float *add = residual_at(res, (ptrdiff_t)(row + r) * ldr + p * CK_PANEL_WIDTH);
                for (int j = 0; j < cols; j++)
                    out[j] = clampf(add ? acc[r][j] + panel[j] + add[j] : acc[r][j] + panel[j], lo, hi);
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
                       int n, int panel0, int panel1, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                       float lo, float hi) {
    const __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int row = row0; row < row1; row += MR_AVX2) {
        const float *ap[MR_AVX2];
        int rows = row1 - row < MR_AVX2 ? row1 - row : MR_AVX2;
        row_pointers(a, lda, row, rows, MR_AVX2, ap);
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
                if (r >= rows) continue;
                __m256 y0 = _mm256_add_ps(acc[r][0], b0), y1 = _mm256_add_ps(acc[r][1], b1);
                const float *add = residual_at(res, (ptrdiff_t)(row + r) * ldr + p * CK_PANEL_WIDTH);
                if (add) {
                    float part[CK_PANEL_WIDTH];
                    if (cols < CK_PANEL_WIDTH) memcpy(part, add, (size_t)cols * sizeof(float));
                    const float *from = cols < CK_PANEL_WIDTH ? part : add;
                    y0 = _mm256_add_ps(y0, _mm256_loadu_ps(from));
                    y1 = _mm256_add_ps(y1, _mm256_loadu_ps(from + 8));
                }
                y0 = _mm256_min_ps(_mm256_max_ps(y0, low), high);
                y1 = _mm256_min_ps(_mm256_max_ps(y1, low), high);
                float *out = c + (ptrdiff_t)(row + r) * ldc + p * CK_PANEL_WIDTH;
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

// MARK: - AVX-512: 8 rows x 48 channels, 12 rows x 32 or 24 rows x 16 (24 accumulators each)
//
// Each A value is broadcast straight from memory into the FMA. Measured with
// benchmarks/speed/conv_f32_bench.c, this beat copying A's rows into a k-major block first (the copy
// cost as much as the FMAs when there are few output channels). Narrow layers (1 or 2 panels) take more
// rows so they still keep 24 FMA chains in flight (8 would leave no slack over the FMA latency) and
// load fewer weights per FMA.

#define MR_AVX512 8
#define MR_MAX_AVX512 24
#ifndef MR_TWO_PANELS
#define MR_TWO_PANELS 12
#endif
#ifndef MR_ONE_PANEL
#define MR_ONE_PANEL 24
#endif
#ifndef WEIGHT_AHEAD
#define WEIGHT_AHEAD 16
#endif

static inline __mmask16 lane_mask(int cols) {
    if (cols <= 0) return 0;
    return cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
}

// Each of mr rows' accumulators for `vectors` panels starts at its panel's bias (the packed panel's first line).
__attribute__((target("avx512f"), always_inline))
static inline void start_at_bias(__m512 (*acc)[3], const float *panel, size_t stride, int mr, int vectors) {
    #pragma clang loop unroll(full)
    for (int v = 0; v < 3; v++) {
        __m512 bias = v < vectors ? _mm512_loadu_ps(panel + v * stride) : _mm512_setzero_ps();
        #pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) acc[r][v] = bias;
    }
}

// Where row r of A is at the current K step in the 12- and 24-row kernels: the pointer of its group of
// five rows (advanced along K) plus 0-4 row strides, as x86 base + index * scale addresses.
__attribute__((always_inline))
static inline const char *strided_row(const char *const *group, int r, ptrdiff_t line, ptrdiff_t line3) {
    const char *base = group[r / 5];
    switch (r % 5) {
    case 0: return base;
    case 1: return base + line;
    case 2: return base + 2 * line;
    case 3: return base + line3;
    default: return base + 4 * line;
    }
}

// Moves each group pointer `bytes` along K. The empty asm makes each pointer opaque, so clang cannot fold
// the groups back into one pointer advanced by an add per row.
__attribute__((always_inline))
static inline void advance_groups(const char **group, int mr, size_t bytes) {
    #pragma clang loop unroll(full)
    for (int g = 0; g < (mr + 4) / 5; g++) {
        group[g] += bytes;
        __asm__("" : "+r"(group[g]));
    }
}

// The K loop of micro_avx512. `strided` (all mr rows valid, mr 12 or 24): each A row is addressed by
// `strided_row`, so a K step advances 5 pointers. Otherwise each row has its own pointer, which clang
// derives from the one before by an add per row: on the 24-row 1-panel kernel a chain of 23 dependent
// adds per K step, longer than its 24 FMAs take (those layers ran 0.87-0.92x as long with this).
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void k_loop_avx512(const float *a, ptrdiff_t lda, int k, const float *panel, size_t stride, int mr,
                                 int vectors, int strided, int rows, float *c, ptrdiff_t ldc,
                                 __m512 acc[MR_MAX_AVX512][3]) {
    const float *ar[MR_MAX_AVX512];
    const char *group[(MR_MAX_AVX512 + 4) / 5];
    const ptrdiff_t line = lda * (ptrdiff_t)sizeof(float), line3 = 3 * line;
    if (strided) {
        #pragma clang loop unroll(full)
        for (int g = 0; g < (mr + 4) / 5; g++) group[g] = (const char *)a + 5 * g * line;
    } else {
        #pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) ar[r] = a + (ptrdiff_t)(r < rows ? r : rows - 1) * lda;
    }
    // The next mr rows' A (contiguous when lda == k, as for 1x1 convolutions and im2col rows) and C
    // lines are fetched during this K loop, one 64-byte line per 16 floats: each block's rows are too
    // short a stream for the hardware prefetcher, and these layers wait on the shared L3 otherwise.
    const char *next_a = (const char *)(a + mr * lda);
    float *next_c = c + mr * ldc;
    const float *w = panel + CK_PANEL_WIDTH;
    for (int i = 0; i < k; i++, w += CK_PANEL_WIDTH) {
        if (mr <= 8) {
            if ((i & 1) == 0) _mm_prefetch(next_a + (size_t)i * mr * sizeof(float), _MM_HINT_T0);
        } else {
            _mm_prefetch(next_a + (size_t)i * mr * sizeof(float), _MM_HINT_T0);
            if (mr > 16) _mm_prefetch(next_a + ((size_t)i * mr + 16) * sizeof(float), _MM_HINT_T0);
        }
        if (i < mr) {
            #pragma clang loop unroll(full)
            for (int v = 0; v < 3; v++)
                if (v < vectors) __builtin_prefetch(next_c + (ptrdiff_t)i * ldc + v * 16, 1, 3);
        }
        __m512 wv[3];
        #pragma clang loop unroll(full)
        for (int v = 0; v < 3; v++)
            if (v < vectors) {
                _mm_prefetch((const char *)(w + v * stride + WEIGHT_AHEAD * CK_PANEL_WIDTH), _MM_HINT_T0);
                wv[v] = _mm512_loadu_ps(w + v * stride);
            }
        #pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            __m512 x = _mm512_set1_ps(strided ? *(const float *)strided_row(group, r, line, line3) : ar[r][i]);
            #pragma clang loop unroll(full)
            for (int v = 0; v < 3; v++)
                if (v < vectors) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
        }
        if (strided) advance_groups(group, mr, sizeof(float));
    }
}

// Rows [0, rows) of the accumulators, plus the residual's rows when given, clamped, into C.
__attribute__((target("avx512f"), always_inline))
static inline void store_avx512(__m512 acc[MR_MAX_AVX512][3], int mr, int vectors, int rows, int cols, float *c,
                                ptrdiff_t ldc, const float *res, ptrdiff_t ldr, __m512 low, __m512 high) {
    #pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (r >= rows) continue;
        float *out = c + (ptrdiff_t)r * ldc;
        #pragma clang loop unroll(full)
        for (int v = 0; v < 3; v++) {
            if (v >= vectors) continue;
            __m512 y = acc[r][v];
            if (res) {
                const float *add = res + (ptrdiff_t)r * ldr + v * 16;
                y = _mm512_add_ps(y, cols >= (v + 1) * 16 ? _mm512_loadu_ps(add)
                                                          : _mm512_maskz_loadu_ps(lane_mask(cols - v * 16), add));
            }
            y = _mm512_min_ps(_mm512_max_ps(y, low), high);
            if (cols >= (v + 1) * 16) _mm512_storeu_ps(out + v * 16, y);
            else _mm512_mask_storeu_ps(out + v * 16, lane_mask(cols - v * 16), y);
        }
    }
}

// C[rows][cols] for `vectors` (1..3) panels of 16 channels starting at `panel`, rows <= mr <= 24; `mr`
// and `vectors` are compile-time constants at each call so the accumulator arrays live in registers.
// Rows past `rows` re-read the last row (valid memory) and are not stored.
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void micro_avx512(const float *a, ptrdiff_t lda, int k, const float *panel, size_t stride,
                                int mr, int vectors, int rows, int cols, float *c, ptrdiff_t ldc, const float *res,
                                ptrdiff_t ldr, __m512 low, __m512 high) {
    __m512 acc[MR_MAX_AVX512][3];
    start_at_bias(acc, panel, stride, mr, vectors);
    if (rows == mr && mr > MR_AVX512) k_loop_avx512(a, lda, k, panel, stride, mr, vectors, 1, rows, c, ldc, acc);
    else k_loop_avx512(a, lda, k, panel, stride, mr, vectors, 0, rows, c, ldc, acc);
    store_avx512(acc, mr, vectors, rows, cols, c, ldc, res, ldr, low, high);
}

// Calls KERNEL(mr) for the last `left` (1-8) rows of a block with mr the smallest of 8, 4, 2 and 1 that covers
// them, a compile-time constant in each branch, so a few rows do not run a full kernel they mostly discard.
#define BY_ROWS_LEFT(left, KERNEL) do { \
    if ((left) > 4) KERNEL(8); \
    else if ((left) > 2) KERNEL(4); \
    else if ((left) == 2) KERNEL(2); \
    else KERNEL(1); \
} while (0)

// Rows [0, rows) of one group of `vectors` panels: blocks of `mr` rows, then the last rows with an
// 8-, 4-, 2- or 1-row kernel (BY_ROWS_LEFT) instead of a full one computing rows it throws away.
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void rows_avx512(const float *a, ptrdiff_t lda, int k, const float *panel, size_t stride, int mr,
                               int vectors, int rows, int cols, float *c, ptrdiff_t ldc, const float *res,
                               ptrdiff_t ldr, __m512 low, __m512 high) {
    int row = 0;
    for (; row + mr <= rows; row += mr)
        micro_avx512(a + (ptrdiff_t)row * lda, lda, k, panel, stride, mr, vectors, mr, cols, c + (ptrdiff_t)row * ldc,
                     ldc, residual_at(res, (ptrdiff_t)row * ldr), ldr, low, high);
    for (; row < rows; row += MR_AVX512) {
        int left = rows - row < MR_AVX512 ? rows - row : MR_AVX512;
        const float *rowsA = a + (ptrdiff_t)row * lda;
        float *rowsC = c + (ptrdiff_t)row * ldc;
        const float *rowsR = residual_at(res, (ptrdiff_t)row * ldr);
        #define MICRO(mr) micro_avx512(rowsA, lda, k, panel, stride, mr, vectors, left, cols, rowsC, ldc, rowsR, ldr, \
                                       low, high)
        BY_ROWS_LEFT(left, MICRO);
        #undef MICRO
    }
}

// All panels [panel0, panel1) of one block of rows, three at a time (then two or one).
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void panels_avx512(const float *rowsA, ptrdiff_t lda, int k, const float *packed, int n, int panel0,
                                 int panel1, int mr, int rows, float *rowsC, ptrdiff_t ldc, const float *rowsR,
                                 ptrdiff_t ldr, __m512 low, __m512 high) {
    size_t stride = panel_stride(k);
    int p = panel0;
    for (; p + 3 <= panel1; p += 3)
        micro_avx512(rowsA, lda, k, packed + (size_t)p * stride, stride, mr, 3, rows, n - p * CK_PANEL_WIDTH,
                     rowsC + p * CK_PANEL_WIDTH, ldc, residual_at(rowsR, p * CK_PANEL_WIDTH), ldr, low, high);
    if (panel1 - p == 2)
        micro_avx512(rowsA, lda, k, packed + (size_t)p * stride, stride, mr, 2, rows, n - p * CK_PANEL_WIDTH,
                     rowsC + p * CK_PANEL_WIDTH, ldc, residual_at(rowsR, p * CK_PANEL_WIDTH), ldr, low, high);
    else if (panel1 - p == 1)
        micro_avx512(rowsA, lda, k, packed + (size_t)p * stride, stride, mr, 1, rows, n - p * CK_PANEL_WIDTH,
                     rowsC + p * CK_PANEL_WIDTH, ldc, residual_at(rowsR, p * CK_PANEL_WIDTH), ldr, low, high);
}

// Rows [row0, row1) by panels [panel0, panel1) 8 rows at a time through all panels, so those rows' A
// stays in L1; the last rows of a tile (e.g. 4 of the 10x10 maps' 100, 1 of the 19x19 maps' 361) take
// a 4-, 2- or 1-row kernel instead of an 8-row one computing rows it throws away. Each way of splitting
// the panels has its own function so the compiler allocates registers for one K loop (inlined together,
// it spilled row pointers to the stack).
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void eights_avx512(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                          int n, int panel0, int panel1, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                          __m512 low, __m512 high) {
    for (int row = row0; row < row1; row += MR_AVX512) {
        int rows = row1 - row < MR_AVX512 ? row1 - row : MR_AVX512;
        const float *rowsA = a + (ptrdiff_t)row * lda;
        float *rowsC = c + (ptrdiff_t)row * ldc;
        const float *rowsR = residual_at(res, (ptrdiff_t)row * ldr);
        #define PANELS(mr) panels_avx512(rowsA, lda, k, packed, n, panel0, panel1, mr, rows, rowsC, ldc, rowsR, ldr, low, \
                                         high)
        BY_ROWS_LEFT(rows, PANELS);
        #undef PANELS
    }
}

__attribute__((target("avx512f,prfchw"), noinline))
static void two_avx512(const float *a, ptrdiff_t lda, int rows, int k, const float *packed, size_t stride, int n,
                       int p, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr, __m512 low, __m512 high) {
    rows_avx512(a, lda, k, packed + (size_t)p * stride, stride, MR_TWO_PANELS, 2, rows, n - p * CK_PANEL_WIDTH,
                c + p * CK_PANEL_WIDTH, ldc, residual_at(res, p * CK_PANEL_WIDTH), ldr, low, high);
}

__attribute__((target("avx512f,prfchw"), noinline))
static void one_avx512(const float *a, ptrdiff_t lda, int rows, int k, const float *packed, size_t stride, int n,
                       int p, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr, __m512 low, __m512 high) {
    rows_avx512(a, lda, k, packed + (size_t)p * stride, stride, MR_ONE_PANEL, 1, rows, n - p * CK_PANEL_WIDTH,
                c + p * CK_PANEL_WIDTH, ldc, residual_at(res, p * CK_PANEL_WIDTH), ldr, low, high);
}

// C[rows][8] from the pair panel, rows <= mr <= 24 (mr a compile-time constant at each call); `strided`
// when rows == mr (see k_loop_avx512).
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void micro_pair_avx512(const float *a, ptrdiff_t lda, int k, const float *pairs, int mr, int rows,
                                     int strided, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                                     __m512 low, __m512 high) {
    __m512 acc[MR_MAX_AVX512];
    #pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) acc[r] = _mm512_setzero_ps();
    const float *ar[MR_MAX_AVX512];
    const char *group[(MR_MAX_AVX512 + 4) / 5];
    const ptrdiff_t line = lda * (ptrdiff_t)sizeof(float), line3 = 3 * line;
    #pragma clang loop unroll(full)
    for (int g = 0; g < (mr + 4) / 5; g++) group[g] = (const char *)a + 5 * g * line;
    #pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) ar[r] = a + (ptrdiff_t)(r < rows ? r : rows - 1) * lda;
    const float *w = pairs + CK_PANEL_WIDTH;
    int i = 0;
    for (; i + 2 <= k; i += 2, w += CK_PANEL_WIDTH) {
        __m512 wv = _mm512_loadu_ps(w);
        #pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            double pair;
            memcpy(&pair, strided ? strided_row(group, r, line, line3) : (const char *)(ar[r] + i), sizeof pair);
            acc[r] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(pair)), wv, acc[r]);
        }
        if (strided) advance_groups(group, mr, 2 * sizeof(float));
    }
    if (i < k) {  // odd k: the last step's weights sit in the even lanes, the odd ones are 0
        __m512 wv = _mm512_loadu_ps(w);
        #pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++)
            acc[r] = _mm512_mask3_fmadd_ps(_mm512_set1_ps(ar[r][i]), wv, acc[r], (__mmask16)0x5555);
    }
    const __m512 bias = _mm512_maskz_loadu_ps((__mmask16)0xFF, pairs);
    #pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (r >= rows) continue;
        // Lane 2j + lane 2j + 1, then the even lanes packed into lanes 0-7.
        __m512 sum = _mm512_add_ps(acc[r], _mm512_permute_ps(acc[r], 0xB1));
        __m512 y = _mm512_add_ps(_mm512_maskz_compress_ps((__mmask16)0x5555, sum), bias);
        if (res) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps((__mmask16)0xFF, res + (ptrdiff_t)r * ldr));
        y = _mm512_min_ps(_mm512_max_ps(y, low), high);
        _mm512_mask_storeu_ps(c + (ptrdiff_t)r * ldc, (__mmask16)0xFF, y);
    }
}

// Rows [0, rows) of the pair panel: 24 at a time, then an 8-, 4-, 2- or 1-row kernel.
__attribute__((target("avx512f,prfchw"), noinline))
static void pair_avx512(const float *a, ptrdiff_t lda, int rows, int k, const float *pairs, float *c, ptrdiff_t ldc,
                        const float *res, ptrdiff_t ldr, __m512 low, __m512 high) {
    int row = 0;
    for (; row + MR_MAX_AVX512 <= rows; row += MR_MAX_AVX512)
        micro_pair_avx512(a + (ptrdiff_t)row * lda, lda, k, pairs, MR_MAX_AVX512, MR_MAX_AVX512, 1,
                          c + (ptrdiff_t)row * ldc, ldc, residual_at(res, (ptrdiff_t)row * ldr), ldr, low, high);
    for (; row < rows; row += MR_AVX512) {
        int left = rows - row < MR_AVX512 ? rows - row : MR_AVX512;
        const float *rowsA = a + (ptrdiff_t)row * lda;
        float *rowsC = c + (ptrdiff_t)row * ldc;
        const float *rowsR = residual_at(res, (ptrdiff_t)row * ldr);
        #define PAIR(mr) micro_pair_avx512(rowsA, lda, k, pairs, mr, left, 0, rowsC, ldc, rowsR, ldr, low, high)
        BY_ROWS_LEFT(left, PAIR);
        #undef PAIR
    }
}

// Panels [panel0, panel1) for rows [row0, row1) (at most a tile): groups of three, and a remainder of
// two panels or of one, which becomes 2 + 2 when there are threes to borrow from (4 = 2 + 2,
// 10 = 3 + 3 + 2 + 2): a 1-panel group reloads A for 16 channels only.
__attribute__((target("avx512f,prfchw")))
static void block_avx512(const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                         int n, int panel0, int panel1, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                         float lo, float hi) {
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    const size_t stride = panel_stride(k);
    if (has_pair_panel(n) && panel1 == panel_count(n)) {
        // The last 8 channels from the pair panel; the panels before it as below.
        panel1--;
        pair_avx512(a + (ptrdiff_t)row0 * lda, lda, row1 - row0, k, packed + panels_count(n, k),
                    c + (ptrdiff_t)row0 * ldc + panel1 * CK_PANEL_WIDTH, ldc,
                    residual_at(res, (ptrdiff_t)row0 * ldr + panel1 * CK_PANEL_WIDTH), ldr, low, high);
        if (panel1 == panel0) return;
    }
    int panels = panel1 - panel0, threes = panels / 3, twos = 0;
    if (panels % 3 == 2) twos = 1;
    else if (panels % 3 == 1 && threes > 0) threes--, twos = 2;
    const int ones = panels - 3 * threes - 2 * twos;
    const float *rowsA = a + (ptrdiff_t)row0 * lda;
    float *rowsC = c + (ptrdiff_t)row0 * ldc;
    const float *rowsR = residual_at(res, (ptrdiff_t)row0 * ldr);
    const int rows = row1 - row0;
    if (threes > 0)
        eights_avx512(a, lda, row0, row1, k, packed, n, panel0, panel0 + 3 * threes, c, ldc, res, ldr, low, high);
    for (int g = 0; g < twos; g++)
        two_avx512(rowsA, lda, rows, k, packed, stride, n, panel0 + 3 * threes + 2 * g, rowsC, ldc, rowsR, ldr, low,
                   high);
    if (ones) one_avx512(rowsA, lda, rows, k, packed, stride, n, panel1 - 1, rowsC, ldc, rowsR, ldr, low, high);
}

// MARK: - AVX-512 convolution without im2col
//
// A convolution's GEMM row for an output pixel whose window lies inside the image is filter_height runs of
// filter_width * channels contiguous input floats, one input line apart. The micro-kernel below reads
// them in place through per-row (pointer, line) pairs, so only border pixels are gathered into scratch
// (with line = run). For the 3-channel first layer the gather cost as much as the multiply-adds.

__attribute__((target("avx512f,prfchw"), always_inline))
static inline void micro_windows_avx512(const float *const *ap, const ptrdiff_t *line, int fh, int run,
                                        const float *panel, size_t stride, int vectors, int rows, int cols,
                                        float *c, ptrdiff_t ldc, __m512 low, __m512 high) {
    __m512 acc[MR_AVX512][3];
    start_at_bias(acc, panel, stride, MR_AVX512, vectors);
    const float *w = panel + CK_PANEL_WIDTH;
    for (int fy = 0; fy < fh; fy++) {
        const float *ar[MR_AVX512];
        #pragma clang loop unroll(full)
        for (int r = 0; r < MR_AVX512; r++) ar[r] = ap[r] + fy * line[r];
        for (int j = 0; j < run; j++, w += CK_PANEL_WIDTH) {
            __m512 wv[3];
            #pragma clang loop unroll(full)
            for (int v = 0; v < 3; v++)
                if (v < vectors) wv[v] = _mm512_loadu_ps(w + v * stride);
            #pragma clang loop unroll(full)
            for (int r = 0; r < MR_AVX512; r++) {
                __m512 x = _mm512_set1_ps(ar[r][j]);
                #pragma clang loop unroll(full)
                for (int v = 0; v < 3; v++)
                    if (v < vectors) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
            }
        }
    }
    store_avx512(acc, MR_AVX512, vectors, rows, cols, c, ldc, NULL, 0, low, high);
}

// `mr` (12 or 24) pixels of one output row whose windows all lie inside the image: pixel r's window
// starts r * pixel_step floats after the first's, so each filter row is a GEMM step of K = run over A
// rows pixel_step apart, taken as the 1x1 layers' 12- and 24-row kernels take theirs (one pointer per
// five rows, not one per row, and not the generic kernel's 8). Same sums in the same order.
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void micro_window_line_avx512(const float *a, ptrdiff_t pixel_step, ptrdiff_t filter_line, int fh,
                                            int run, const float *panel, size_t stride, int mr, int vectors, int cols,
                                            float *c, ptrdiff_t ldc, __m512 low, __m512 high) {
    __m512 acc[MR_MAX_AVX512][3];
    start_at_bias(acc, panel, stride, mr, vectors);
    for (int fy = 0; fy < fh; fy++)
        k_loop_avx512(a + fy * filter_line, pixel_step, run, panel + (size_t)fy * run * CK_PANEL_WIDTH, stride, mr,
                      vectors, 1, mr, c, ldc, acc);
    store_avx512(acc, mr, vectors, mr, cols, c, ldc, NULL, 0, low, high);
}

// Output pixels [pixel, pixel + count) of a dilation-1 window: where the first one's window starts
// when all are in one output row with their windows inside the image, else NULL.
static inline const float *windows_in_line(const float *input, const ck_window *w, int pixel, int count) {
    const int oy = pixel / w->output_width, ox = pixel % w->output_width;
    const int iy0 = oy * w->stride_height - w->pad_top, ix0 = ox * w->stride_width - w->pad_left;
    const int last_ix = (ox + count - 1) * w->stride_width - w->pad_left;
    if (ox + count > w->output_width || ix0 < 0 || last_ix + w->filter_width > w->input_width || iy0 < 0
        || iy0 + (w->filter_height - 1) * w->dilation_height >= w->input_height || w->dilation_width != 1)
        return NULL;
    return input + ((ptrdiff_t)iy0 * w->input_width + ix0) * w->channels;
}

// Output pixels [row0, row1) by panels [panel0, panel1); needs dilation_width 1. `scratch` holds
// (row1 - row0) im2col rows, of which only the border pixels' are written.
__attribute__((target("avx512f,prfchw")))
static void conv_block_avx512(const float *input, const ck_window *w, int row0, int row1, const float *packed,
                              int n, int panel0, int panel1, float *c, float lo, float hi, float *scratch) {
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    const int fh = w->filter_height, run = w->filter_width * w->channels, k = fh * run;
    const ptrdiff_t input_line = (ptrdiff_t)w->input_width * w->channels;
    const size_t stride = panel_stride(k);
    // Blocks of pixels in one output row with every window inside take the 12- or 24-row kernel of
    // 1- and 2-panel tiles. Wider tiles keep the 8-row blocks below, which hold 24 accumulators already.
    const int panels = panel1 - panel0;
    const int line_rows = panels == 1 ? MR_ONE_PANEL : MR_TWO_PANELS;
    const ptrdiff_t pixel_step = (ptrdiff_t)w->stride_width * w->channels;
    const ptrdiff_t filter_line = w->dilation_height * input_line;
    for (int row = row0; row < row1;) {
        const float *line_start = panels <= 2 && row + line_rows <= row1 ? windows_in_line(input, w, row, line_rows)
                                                                          : NULL;
        if (line_start) {
            const float *panel = packed + (size_t)panel0 * stride;
            float *rowsC = c + (ptrdiff_t)row * n + panel0 * CK_PANEL_WIDTH;
            const int cols = n - panel0 * CK_PANEL_WIDTH;
            if (panels == 1)
                micro_window_line_avx512(line_start, pixel_step, filter_line, fh, run, panel, stride,
                                         MR_ONE_PANEL, 1, cols, rowsC, n, low, high);
            else
                micro_window_line_avx512(line_start, pixel_step, filter_line, fh, run, panel, stride,
                                         MR_TWO_PANELS, 2, cols, rowsC, n, low, high);
            row += line_rows;
            continue;
        }
        int rows = row1 - row < MR_AVX512 ? row1 - row : MR_AVX512;
        const float *ap[MR_AVX512];
        ptrdiff_t line[MR_AVX512];
        for (int r = 0; r < MR_AVX512; r++) {
            int pixel = row + (r < rows ? r : rows - 1);
            int oy = pixel / w->output_width, ox = pixel % w->output_width;
            int iy0 = oy * w->stride_height - w->pad_top, ix0 = ox * w->stride_width - w->pad_left;
            int inside = ix0 >= 0 && ix0 + w->filter_width <= w->input_width && iy0 >= 0
                && iy0 + (fh - 1) * w->dilation_height < w->input_height;
            if (inside) {
                ap[r] = input + iy0 * input_line + (ptrdiff_t)ix0 * w->channels;
                line[r] = w->dilation_height * input_line;
            } else {
                float *gathered = scratch + (size_t)(pixel - row0) * k;
                if (r < rows) ck_im2col_f32(input, w, pixel, pixel + 1, gathered);
                ap[r] = gathered;
                line[r] = run;
            }
        }
        float *rowsC = c + (ptrdiff_t)row * n;
        int p = panel0;
        for (; p + 3 <= panel1; p += 3)
            micro_windows_avx512(ap, line, fh, run, packed + (size_t)p * stride, stride, 3, rows,
                                 n - p * CK_PANEL_WIDTH, rowsC + p * CK_PANEL_WIDTH, n, low, high);
        if (panel1 - p == 2)
            micro_windows_avx512(ap, line, fh, run, packed + (size_t)p * stride, stride, 2, rows,
                                 n - p * CK_PANEL_WIDTH, rowsC + p * CK_PANEL_WIDTH, n, low, high);
        else if (panel1 - p == 1)
            micro_windows_avx512(ap, line, fh, run, packed + (size_t)p * stride, stride, 1, rows,
                                 n - p * CK_PANEL_WIDTH, rowsC + p * CK_PANEL_WIDTH, n, low, high);
        row += MR_AVX512;
    }
}
#endif

static void run_block(ck_isa isa, const float *a, ptrdiff_t lda, int row0, int row1, int k, const float *packed,
                      int n, int panel0, int panel1, float *c, ptrdiff_t ldc, const float *res, ptrdiff_t ldr,
                      float lo, float hi) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) {
        block_avx512(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, res, ldr, lo, hi);
        return;
    }
    if (isa == CK_ISA_AVX2_FMA) {
        block_avx2(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, res, ldr, lo, hi);
        return;
    }
#endif
    (void)isa;
    block_portable(a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, res, ldr, lo, hi);
}

// Up to this many bytes of packed weights, units go along the columns of one band of rows before the
// next band: the threads then split the output by rows, as the depthwise convolutions and whole-row
// GEMMs that read it do, so each thread finds its input in its own L2 instead of fetching half of it
// from the other core's (~20 µs per 19x19 layer); weights this small stay in L2 for every band.
// Larger weights (the 10x10 layers' 1.2-1.6 MB) go down the rows of one column of tiles before the
// next, so each tile's weights are read from memory once and stay in cache for all of A's rows
// (A, M x K, is small wherever the weights are large).
#ifndef ROW_MAJOR_WEIGHT_BYTES
#define ROW_MAJOR_WEIGHT_BYTES (1024 * 1024)
#endif
static inline void unit_bounds(int t, int m, int n, int k, int *row0, int *row1, int *panel0, int *panel1) {
    int row_tiles = (m + TILE_ROWS - 1) / TILE_ROWS, panels = panel_count(n);
    int column_tiles = (panels + tile_panels(n) - 1) / tile_panels(n);
    int row_major = panels_count(n, k) * sizeof(float) <= ROW_MAJOR_WEIGHT_BYTES;
    int row_tile = row_major ? t / column_tiles : t % row_tiles;
    int column_tile = row_major ? t % column_tiles : t / row_tiles;
    *row0 = row_tile * TILE_ROWS;
    *panel0 = column_tile * tile_panels(n);
    *row1 = *row0 + TILE_ROWS < m ? *row0 + TILE_ROWS : m;
    *panel1 = *panel0 + tile_panels(n) < panels ? *panel0 + tile_panels(n) : panels;
}

void ck_gemm_f32_residual(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n, float *c,
                          ptrdiff_t ldc, const float *residual, ptrdiff_t ldr, float lo, float hi, int unit_begin,
                          int unit_end, ck_isa isa) {
    isa = ck_supported_isa(isa);
    for (int t = unit_begin; t < unit_end; t++) {
        int row0, row1, panel0, panel1;
        unit_bounds(t, m, n, k, &row0, &row1, &panel0, &panel1);
        run_block(isa, a, lda, row0, row1, k, packed, n, panel0, panel1, c, ldc, residual, ldr, lo, hi);
    }
}

void ck_gemm_f32(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n,
                 float *c, ptrdiff_t ldc, float lo, float hi, int unit_begin, int unit_end, ck_isa isa) {
    ck_gemm_f32_residual(a, lda, m, k, packed, n, c, ldc, NULL, 0, lo, hi, unit_begin, unit_end, isa);
}

size_t ck_conv_f32_scratch_count(const ck_window *w) {
    return (size_t)TILE_ROWS * w->filter_height * w->filter_width * w->channels;
}

// Output pixels [row0, row1) (at most TILE_ROWS) by panels [panel0, panel1), into c + pixel * n.
static void conv_block(ck_isa isa, const float *input, const ck_window *w, int row0, int row1, const float *packed,
                       int n, int panel0, int panel1, float *c, float lo, float hi, float *scratch) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512 && w->dilation_width == 1) {
        conv_block_avx512(input, w, row0, row1, packed, n, panel0, panel1, c, lo, hi, scratch);
        return;
    }
#endif
    // Rewritten per block, so the rows stay in L1 instead of making a round trip through memory as a
    // whole-image im2col buffer would.
    const int k = w->filter_height * w->filter_width * w->channels;
    ck_im2col_f32(input, w, row0, row1, scratch);
    run_block(isa, scratch, k, 0, row1 - row0, k, packed, n, panel0, panel1, c + (ptrdiff_t)row0 * n, n, NULL, 0, lo,
              hi);
}

void ck_conv_f32(const float *input, const ck_window *w, const float *packed, int n, float *c, float lo,
                 float hi, int unit_begin, int unit_end, float *scratch, ck_isa isa) {
    const int m = w->output_height * w->output_width;
    const int k = w->filter_height * w->filter_width * w->channels;
    isa = ck_supported_isa(isa);
    for (int t = unit_begin; t < unit_end; t++) {
        int row0, row1, panel0, panel1;
        unit_bounds(t, m, n, k, &row0, &row1, &panel0, &panel1);
        conv_block(isa, input, w, row0, row1, packed, n, panel0, panel1, c, lo, hi, scratch);
    }
}

void ck_conv_f32_pixels(const float *input, const ck_window *w, const float *packed, int n, float *c, float lo,
                        float hi, int pixel_begin, int pixel_end, float *scratch, ck_isa isa) {
    isa = ck_supported_isa(isa);
    const int panels = panel_count(n), step = tile_panels(n);
    // conv_block addresses C by image pixel; c holds pixel_begin's output.
    float *image = c - (ptrdiff_t)pixel_begin * n;
    for (int row0 = pixel_begin; row0 < pixel_end; row0 += TILE_ROWS) {
        const int row1 = row0 + TILE_ROWS < pixel_end ? row0 + TILE_ROWS : pixel_end;
        for (int panel0 = 0; panel0 < panels; panel0 += step)
            conv_block(isa, input, w, row0, row1, packed, n, panel0, panel0 + step < panels ? panel0 + step : panels,
                       image, lo, hi, scratch);
    }
}
