/* libFuzzer target: any bytes as an in-memory h5ad. Whatever opens has every obs/var column and
 * its first rows of X read (bounded, so a fuzzed shape cannot ask for gigabytes). */
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "io/h5ad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct sg_h5ad *h;
    if (sg_h5ad_open_memory(data, size, "fuzz.h5ad", &h) != SG_OK) {
        H5garbage_collect();
        return 0;
    }
    for (int k = 0; k < 2; k++) {
        enum sg_h5ad_frame_kind frame = k ? SG_H5AD_VAR : SG_H5AD_OBS;
        struct sg_h5ad_strings s      = {0};
        if (sg_h5ad_column_strings(h, frame, NULL, &s) == SG_OK) sg_h5ad_strings_free(&s);
        for (int i = 0; i < sg_h5ad_n_columns(h, frame); i++)
            if (sg_h5ad_column_strings(h, frame, sg_h5ad_column_name(h, frame, i), &s) == SG_OK)
                sg_h5ad_strings_free(&s);
    }
    if (sg_h5ad_n_var(h) <= (1 << 16) && sg_h5ad_nnz(h) <= (1 << 22)) {
        struct sg_h5ad_rows r = {0};
        sg_h5ad_read_rows(h, 0, 8, &r);
        sg_h5ad_rows_free(&r);
    }
    sg_h5ad_close(h);
    H5garbage_collect(); /* HDF5's free lists would otherwise look like leaks */
    return 0;
}
