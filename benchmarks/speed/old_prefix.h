// Renames the float kernels' public symbols with an old_ prefix, so conv_f32_ab.c can link a committed
// version of gemm_f32.c, im2col_f32.c and depthwise_f32.c next to the working tree's.
#define ck_packed_f32_count old_ck_packed_f32_count
#define ck_pack_f32 old_ck_pack_f32
#define ck_gemm_f32_tile_count old_ck_gemm_f32_tile_count
#define ck_gemm_f32_unit_count old_ck_gemm_f32_unit_count
#define ck_gemm_f32 old_ck_gemm_f32
#define ck_gemm_f32_residual old_ck_gemm_f32_residual
#define ck_im2col_f32 old_ck_im2col_f32
#define ck_conv_f32_scratch_count old_ck_conv_f32_scratch_count
#define ck_conv_f32 old_ck_conv_f32
#define ck_depthwise_f32 old_ck_depthwise_f32
#define ck_depthwise_f32_copies_rows old_ck_depthwise_f32_copies_rows
#define ck_conv_f32_pixels old_ck_conv_f32_pixels
