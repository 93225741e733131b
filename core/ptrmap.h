/* A small open-addressing hash map from pointers to pointers (graph membership, gradients,
 * per-tensor allocation state). Keys are never NULL. */
#ifndef SG_PTRMAP_H
#define SG_PTRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct sg_ptrmap {
    const void **keys;
    void **vals;
    size_t cap; /* power of two, or 0 */
    size_t n;
};

/* Returns the value for key, or NULL when absent. */
void *sg_ptrmap_get(const struct sg_ptrmap *m, const void *key);
bool sg_ptrmap_has(const struct sg_ptrmap *m, const void *key);
/* Inserts or replaces; returns false when out of memory. */
bool sg_ptrmap_put(struct sg_ptrmap *m, const void *key, void *val);
void sg_ptrmap_free(struct sg_ptrmap *m);

#endif
