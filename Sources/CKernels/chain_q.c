// A fused 8-bit chain [1x1 expand] -> depthwise -> [1x1 project], band by band of depthwise output
// rows: each band's expanded rows and depthwise rows live in a small per-thread buffer, never in the
// full intermediate tensors. Every value comes from the same kernels as the unfused path (ck_conv_q on
// a band of whole rows is the same 1x1 convolution on a shorter image; ck_depthwise_q reads only the
// input rows its output rows need), so the results are bit-identical.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"

static inline size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/// Bytes between the scratch regions beyond whole cache lines: with row lengths that are multiples of
/// 4 KB (128 x 32 channels, 64 x 64, ...) the depthwise kernel's loads from the expanded rows and stores to
/// its output rows would otherwise share their low 12 address bits, and the core takes such loads for
/// dependent on the stores (4K aliasing), stalling them.
enum { REGION_SKEW = 17 * 64 };

static inline size_t region(size_t bytes) { return bytes ? round64(bytes) + REGION_SKEW : 0; }
static inline int min_int(int a, int b) { return a < b ? a : b; }
static inline int max_int(int a, int b) { return a > b ? a : b; }

/// Expanded rows one band of `band` depthwise output rows reads at most.
static int expanded_rows(const ck_chain_q *c, int band) {
    const ck_window *w = &c->depthwise.window;
    return (band - 1) * w->stride_height + (w->filter_height - 1) * w->dilation_height + 1;
}

static size_t expanded_row_bytes(const ck_chain_q *c) {
    return (size_t)c->depthwise.window.input_width * c->depthwise.window.channels;
}

static size_t depthwise_row_bytes(const ck_chain_q *c) {
    return (size_t)c->depthwise.window.output_width * c->depthwise.window.channels;
}

static size_t gemm_scratch_bytes(const ck_chain_q *c) {
    size_t e = c->expand ? ck_conv_q_scratch_size(&c->expand->window) : 0;
    size_t p = c->project ? ck_conv_q_scratch_size(&c->project->window) : 0;
    return e > p ? e : p;
}

size_t ck_chain_q_scratch_size(const ck_chain_q *c) {
    size_t expanded = c->expand ? region((size_t)expanded_rows(c, c->band_rows) * expanded_row_bytes(c)) : 0;
    size_t depthwise = c->project ? region((size_t)c->band_rows * depthwise_row_bytes(c)) : 0;
    return expanded + depthwise + round64(gemm_scratch_bytes(c));
}

/// The 1x1 stride-1 layer on `rows` whole image rows: the same convolution on an image that tall.
static void pointwise_rows(const ck_pointwise_q *p, const uint8_t *input, int rows, uint8_t *output,
                           uint8_t *scratch) {
    ck_window w = p->window;
    w.input_height = w.output_height = rows;
    ck_conv_q(input, &w, p->packed, p->n, p->column_terms, p->row_sum_factor, p->rq, p->narrow, output, 0,
              ck_conv_q_tile_count(&w, p->n), scratch);
}

void ck_chain_q_rows(const ck_chain_q *c, const void *input, void *output, int row_begin, int row_end, uint8_t *scratch) {
    const ck_window *dw = &c->depthwise.window;
    const size_t e_row = expanded_row_bytes(c), d_row = depthwise_row_bytes(c);
    uint8_t *expanded = scratch;
    uint8_t *band_out = expanded + (c->expand ? region((size_t)expanded_rows(c, c->band_rows) * e_row) : 0);
    uint8_t *gemm = band_out + (c->project ? region((size_t)c->band_rows * d_row) : 0);
    const size_t x_row = c->expand ? (size_t)c->expand->window.input_width * c->expand->window.channels : 0;
    const int reach = (dw->filter_height - 1) * dw->dilation_height + 1;
    int held_begin = 0, held_end = 0;  // expanded rows in the buffer, the first at its start
    for (int r0 = row_begin; r0 < row_end; r0 += c->band_rows) {
        const int r1 = min_int(r0 + c->band_rows, row_end);
        const uint8_t *dw_input = (const uint8_t *)input;
        if (c->expand) {
            const int need_begin = max_int(0, r0 * dw->stride_height - dw->pad_top);
            const int need_end = max_int(need_begin,
                                         min_int(dw->input_height, (r1 - 1) * dw->stride_height - dw->pad_top + reach));
            if (need_begin >= held_begin && need_begin < held_end) {
                // The rows this band shares with the previous one move to the front.
                if (need_begin > held_begin)
                    memmove(expanded, expanded + (size_t)(need_begin - held_begin) * e_row,
                            (size_t)(held_end - need_begin) * e_row);
            } else {
                held_end = need_begin;
            }
            held_begin = need_begin;
            if (need_end > held_end) {
                pointwise_rows(c->expand, (const uint8_t *)input + (size_t)held_end * x_row, need_end - held_end,
                               expanded + (size_t)(held_end - held_begin) * e_row, gemm);
                held_end = need_end;
            }
            // Offset so that the depthwise kernel's row indices address the buffer; it reads only
            // rows [need_begin, need_end).
            dw_input = expanded - (ptrdiff_t)held_begin * (ptrdiff_t)e_row;
        }
        uint8_t *dw_output = c->project ? band_out - (ptrdiff_t)r0 * (ptrdiff_t)d_row : (uint8_t *)output;
        ck_depthwise_q(dw_input, dw, c->depthwise.filter, c->depthwise.rq, dw_output, r0, r1);
        if (c->project)
            pointwise_rows(c->project, band_out, r1 - r0,
                           (uint8_t *)output + (size_t)r0 * dw->output_width * c->project->n, gemm);
    }
}

// One scratch buffer per thread, shared by every chain that thread runs (one at a time): it grows to
// the largest chain's size on first use, then never reallocates.
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

typedef struct {
    size_t size;
    uint8_t *bytes;
} thread_scratch;

static void free_scratch(void *p) {
    thread_scratch *s = p;
    free(s->bytes);
    free(s);
}

static void make_key(void) { pthread_key_create(&scratch_key, free_scratch); }

uint8_t *ck_chain_q_thread_scratch(size_t bytes) {
    pthread_once(&scratch_once, make_key);
    thread_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->size < bytes) {
        free(s->bytes);
        s->bytes = aligned_alloc(64, round64(bytes));
        s->size = s->bytes ? bytes : 0;
    }
    return s->bytes;
}
