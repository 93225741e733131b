/* Element types and their conversions.
 *
 * F32 is the compute type everywhere; F16 and BF16 are storage types (weights, activation
 * caches) converted on load or inside kernels; I32 holds indices (token ids, top-k results).
 */
#ifndef SG_TYPES_H
#define SG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sg_type { SG_TYPE_F32 = 0, SG_TYPE_F16, SG_TYPE_BF16, SG_TYPE_I32, SG_TYPE_COUNT };

size_t sg_type_size(enum sg_type type);
const char *sg_type_name(enum sg_type type);                /* "f32", "f16", "bf16", "i32" */
int sg_type_from_name(const char *name, enum sg_type *out); /* 0 on success */

/* IEEE binary16 and bfloat16 <-> binary32; round to nearest even, NaN and Inf preserved. */
float sg_f16_to_f32(uint16_t h);
uint16_t sg_f32_to_f16(float f);
float sg_bf16_to_f32(uint16_t h);
uint16_t sg_f32_to_bf16(float f);
/* f rounded to the nearest bfloat16 (ties to even), as a float: what a bf16 GEMM reads. */
float sg_round_bf16(float f);

/* Bulk conversions used by casts, loaders and backends. */
void sg_convert_row(enum sg_type dst_type, void *dst, enum sg_type src_type, const void *src, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
