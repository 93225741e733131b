/* h5-compare A B DATASET...: each dataset of HDF5 file A against the same dataset of B: same
 * shape, same type, same bytes. Exit 1 on any difference. (The files themselves differ: HDF5
 * object headers carry modification times.) */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *read_all(hid_t f, const char *name, size_t *bytes, hid_t *type) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    *type        = H5Dget_type(d);
    hid_t native = H5Tget_native_type(*type, H5T_DIR_ASCEND);
    hid_t space  = H5Dget_space(d);
    hssize_t n   = H5Sget_simple_extent_npoints(space);
    *bytes       = (size_t)n * H5Tget_size(native);
    void *buf    = malloc(*bytes ? *bytes : 1);
    if (buf && H5Dread(d, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    H5Tclose(native);
    H5Sclose(space);
    H5Dclose(d);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: h5-compare A.h5ad B.h5ad DATASET...\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t a = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT), b = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (a < 0 || b < 0) {
        fprintf(stderr, "h5-compare: cannot open %s\n", a < 0 ? argv[1] : argv[2]);
        return 1;
    }
    int rc = 0;
    for (int i = 3; i < argc; i++) {
        size_t na = 0, nb = 0;
        hid_t ta = -1, tb = -1;
        void *x = read_all(a, argv[i], &na, &ta), *y = read_all(b, argv[i], &nb, &tb);
        const int same = x && y && na == nb && H5Tequal(ta, tb) > 0 && memcmp(x, y, na) == 0;
        printf("%-24s %s (%zu bytes)\n", argv[i], same ? "identical" : "DIFFERENT", na);
        rc |= !same;
        free(x);
        free(y);
        if (ta >= 0) H5Tclose(ta);
        if (tb >= 0) H5Tclose(tb);
    }
    H5Fclose(a);
    H5Fclose(b);
    return rc;
}
