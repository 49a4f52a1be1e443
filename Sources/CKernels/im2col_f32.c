// im2col: turns a general convolution (e.g. the 3x3 stride-2 first layer) into the packed GEMM.
#include <string.h>
#include "CKernels.h"

void ck_im2col_f32(const float *input, const ck_window *w, int row_begin, int row_end, float *columns) {
    const int channels = w->channels;
    const size_t k = (size_t)w->filter_height * w->filter_width * channels;
    float *out = columns;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++, out += k) {
            float *dst = out;
            for (int fy = 0; fy < w->filter_height; fy++) {
                int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
                for (int fx = 0; fx < w->filter_width; fx++, dst += channels) {
                    int ix = ox * w->stride_width - w->pad_left + fx * w->dilation_width;
                    if (iy < 0 || iy >= w->input_height || ix < 0 || ix >= w->input_width) {
                        memset(dst, 0, (size_t)channels * sizeof(float));  // outside: contributes 0
                    } else {
                        memcpy(dst, input + ((size_t)iy * w->input_width + ix) * channels,
                               (size_t)channels * sizeof(float));
                    }
                }
            }
        }
    }
}
