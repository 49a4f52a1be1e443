// im2col: turns a general convolution (e.g. the 3x3 stride-2 first layer) into rows of the packed GEMM.
#include "CKernels.h"

// A plain loop rather than memcpy: the runs are short (e.g. 9 floats for a 3-channel image), where the
// library call costs more than the copy.
static inline void copy_floats(float *restrict dst, const float *restrict src, int count) {
    for (int i = 0; i < count; i++) dst[i] = src[i];
}

void ck_im2col_f32(const float *input, const ck_window *w, int pixel_begin, int pixel_end, float *columns) {
    const int channels = w->channels;
    const size_t k = (size_t)w->filter_height * w->filter_width * channels;
    const int run = w->filter_width * channels;
    float *out = columns;
    for (int p = pixel_begin; p < pixel_end; p++, out += k) {
        const int oy = p / w->output_width, ox = p % w->output_width;
        float *dst = out;
        const int ix0 = ox * w->stride_width - w->pad_left;
        // With dilation 1 a window row inside the image is one contiguous run of the input.
        const int run_inside = w->dilation_width == 1 && ix0 >= 0 && ix0 + w->filter_width <= w->input_width;
        for (int fy = 0; fy < w->filter_height; fy++) {
            int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
            if (run_inside && iy >= 0 && iy < w->input_height) {
                copy_floats(dst, input + ((size_t)iy * w->input_width + ix0) * channels, run);
                dst += run;
                continue;
            }
            for (int fx = 0; fx < w->filter_width; fx++, dst += channels) {
                int ix = ix0 + fx * w->dilation_width;
                if (iy < 0 || iy >= w->input_height || ix < 0 || ix >= w->input_width) {
                    for (int c = 0; c < channels; c++) dst[c] = 0.0f;  // outside: contributes 0
                } else {
                    copy_floats(dst, input + ((size_t)iy * w->input_width + ix) * channels, channels);
                }
            }
        }
    }
}
