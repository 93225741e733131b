/* libFuzzer target: any bytes through the safetensors header parser. Every tensor it accepts is
 * read end to end, so AddressSanitizer catches data pointers outside the input. */
#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct sg_st_file *f;
    if (sg_st_parse(data, size, "fuzz.safetensors", &f) != SG_OK) return 0;
    volatile uint8_t sum = 0;
    for (int i = 0; i < sg_st_count(f); i++) {
        const struct sg_st_tensor *t = sg_st_get(f, i);
        for (size_t k = 0; k < t->nbytes; k++) sum ^= ((const uint8_t *)t->data)[k];
        (void)sg_st_find(f, t->name);
    }
    (void)sum;
    (void)sg_st_metadata(f, "format");
    sg_st_close(f);
    return 0;
}
