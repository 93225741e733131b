/* st-compare A B TOL: every F32 tensor of safetensors file A against the same tensor of B. Prints
 * the largest difference relative to the tensor's largest magnitude and exits 1 when it exceeds
 * TOL (0: bit for bit), or when the files hold different tensors or shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: st-compare A.safetensors B.safetensors TOLERANCE\n");
        return 2;
    }
    const double tol     = atof(argv[3]);
    struct sg_st_file *a = NULL, *b = NULL;
    if (sg_st_open(argv[1], &a) != SG_OK || sg_st_open(argv[2], &b) != SG_OK) {
        fprintf(stderr, "st-compare: %s\n", sg_last_error());
        return 1;
    }
    int rc = sg_st_count(a) == sg_st_count(b) ? 0 : 1;
    if (rc) printf("different tensor counts: %d and %d\n", sg_st_count(a), sg_st_count(b));
    for (int i = 0; i < sg_st_count(a); i++) {
        const struct sg_st_tensor *ta = sg_st_get(a, i), *tb = sg_st_find(b, ta->name);
        if (!tb || tb->nbytes != ta->nbytes || tb->dtype != ta->dtype) {
            printf("%s: missing or shaped differently in %s\n", ta->name, argv[2]);
            rc = 1;
            continue;
        }
        if (ta->dtype != SG_ST_F32) {
            int same = memcmp(ta->data, tb->data, ta->nbytes) == 0;
            printf("%-12s %s\n", ta->name, same ? "identical" : "DIFFERENT");
            rc |= !same;
            continue;
        }
        double max_abs = 0, max_diff = 0;
        for (int64_t j = 0; j < ta->n_elements; j++) {
            float x, y;
            memcpy(&x, (const char *)ta->data + 4 * j, 4);
            memcpy(&y, (const char *)tb->data + 4 * j, 4);
            if (fabs(x) > max_abs) max_abs = fabs(x);
            double d = fabs((double)x - (double)y);
            if (!(d <= max_diff)) max_diff = d; /* NaN counts as a difference */
        }
        double rel = max_abs > 0 ? max_diff / max_abs : max_diff;
        printf("%-12s max |a-b| / max |a| = %.3g\n", ta->name, rel);
        if (!(rel <= tol)) rc = 1;
    }
    sg_st_close(a);
    sg_st_close(b);
    return rc;
}
