#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference implementation refuses headers above 100 MB; so do we. */
#define ST_MAX_HEADER (100u << 20)
/* Integers in the JSON header must be exact in a double. */
#define ST_MAX_JSON_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} st_dtypes[SG_ST_DTYPE_COUNT] = {
    [SG_ST_BOOL] = {"BOOL", 1},       [SG_ST_U8] = {"U8", 1},           [SG_ST_I8] = {"I8", 1},
    [SG_ST_F8_E4M3] = {"F8_E4M3", 1}, [SG_ST_F8_E5M2] = {"F8_E5M2", 1}, [SG_ST_I16] = {"I16", 2},
    [SG_ST_U16] = {"U16", 2},         [SG_ST_F16] = {"F16", 2},         [SG_ST_BF16] = {"BF16", 2},
    [SG_ST_I32] = {"I32", 4},         [SG_ST_U32] = {"U32", 4},         [SG_ST_F32] = {"F32", 4},
    [SG_ST_I64] = {"I64", 8},         [SG_ST_U64] = {"U64", 8},         [SG_ST_F64] = {"F64", 8},
};

const char *sg_st_dtype_name(enum sg_st_dtype dtype) {
    return (unsigned)dtype < SG_ST_DTYPE_COUNT ? st_dtypes[dtype].name : "?";
}

size_t sg_st_dtype_size(enum sg_st_dtype dtype) {
    return (unsigned)dtype < SG_ST_DTYPE_COUNT ? st_dtypes[dtype].size : 0;
}

static bool st_dtype_from_name(const char *s, enum sg_st_dtype *out) {
    for (int i = 0; i < SG_ST_DTYPE_COUNT; i++) {
        if (strcmp(s, st_dtypes[i].name) == 0) {
            *out = (enum sg_st_dtype)i;
            return true;
        }
    }
    return false;
}

struct sg_st_file {
    char *path;
    void *map; /* NULL when parsing a caller's buffer */
    size_t map_size;
    int n;
    struct sg_st_tensor *tensors;
    char **names;
    char **meta_keys;
    char **meta_vals;
    int n_meta;
};

void sg_st_close(struct sg_st_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->map_size);
    for (int i = 0; i < f->n; i++) free(f->names[i]);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->names);
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->path);
    free(f);
}

static bool json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return false;
    double v = j->valuedouble;
    if (!(v >= 0.0 && v < ST_MAX_JSON_INT) || v != (double)(uint64_t)v) return false;
    *out = (uint64_t)v;
    return true;
}

static sg_status parse_metadata(struct sg_st_file *f, const cJSON *meta, const char *what) {
    if (!cJSON_IsObject(meta)) return sg_error(SG_ERR_FORMAT, "%s: safetensors __metadata__ is not an object", what);
    int n        = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)n + 1, sizeof(char *));
    f->meta_vals = calloc((size_t)n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_vals) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    const cJSON *e;
    cJSON_ArrayForEach(e, meta) {
        if (!cJSON_IsString(e))
            return sg_error(SG_ERR_FORMAT, "%s: safetensors __metadata__ value '%s' is not a string", what, e->string);
        f->meta_keys[f->n_meta] = strdup(e->string);
        f->meta_vals[f->n_meta] = strdup(e->valuestring);
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1])
            return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    return SG_OK;
}

/* One header entry into t (name already set); data_size is the size of the data section. */
static sg_status parse_entry(struct sg_st_tensor *t, const cJSON *e, size_t data_size, const char *what,
                             uint64_t *begin, uint64_t *end) {
    const char *name = t->name;
    if (!cJSON_IsObject(e))
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s': header entry is not an object", what, name);
    const cJSON *dt    = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs  = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return sg_error(SG_ERR_FORMAT, "%s: tensor '%s' has no dtype string", what, name);
    if (!st_dtype_from_name(dt->valuestring, &t->dtype))
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s' has unknown dtype '%.32s'", what, name, dt->valuestring);
    if (!cJSON_IsArray(shape)) return sg_error(SG_ERR_FORMAT, "%s: tensor '%s' has no shape array", what, name);
    int nd = cJSON_GetArraySize(shape);
    if (nd > SG_ST_MAX_DIMS)
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s' has %d dimensions (at most %d)", what, name, nd,
                        SG_ST_MAX_DIMS);
    t->n_dims     = nd;
    uint64_t nel  = 1;
    bool overflow = false;
    for (int d = 0; d < nd; d++) {
        uint64_t v;
        if (!json_uint(cJSON_GetArrayItem(shape, d), &v))
            return sg_error(SG_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", what, name, d);
        t->shape[d] = (int64_t)v;
        if (v != 0 && nel > UINT64_MAX / v) overflow = true;
        nel *= v;
    }
    size_t esz = sg_st_dtype_size(t->dtype);
    if (overflow || esz == 0 || nel > (uint64_t)INT64_MAX / esz)
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s': shape is too large", what, name);
    t->n_elements = (int64_t)nel;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(cJSON_GetArrayItem(offs, 0), begin) ||
        !json_uint(cJSON_GetArrayItem(offs, 1), end))
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end]", what, name);
    if (*begin > *end || *end > data_size)
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] lie outside the %zu bytes of data",
                        what, name, (unsigned long long)*begin, (unsigned long long)*end, data_size);
    if (*end - *begin != nel * esz)
        return sg_error(SG_ERR_FORMAT,
                        "%s: tensor '%s': %llu bytes of data for a %s tensor of %llu elements (%llu bytes)", what, name,
                        (unsigned long long)(*end - *begin), st_dtypes[t->dtype].name, (unsigned long long)nel,
                        (unsigned long long)(nel * esz));
    t->nbytes = (size_t)(*end - *begin);
    return SG_OK;
}

struct st_span {
    uint64_t begin, end;
    int index;
};

static int span_cmp(const void *a, const void *b) {
    const struct st_span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static sg_status parse_header(struct sg_st_file *f, const cJSON *root, const uint8_t *data, size_t data_size,
                              const char *what) {
    int n_items           = cJSON_GetArraySize(root);
    f->tensors            = calloc((size_t)n_items + 1, sizeof *f->tensors);
    f->names              = calloc((size_t)n_items + 1, sizeof(char *));
    struct st_span *spans = calloc((size_t)n_items + 1, sizeof *spans);
    if (!f->tensors || !f->names || !spans) {
        free(spans);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    sg_status st = SG_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (f->meta_keys) {
                st = sg_error(SG_ERR_FORMAT, "%s: safetensors header has two __metadata__ entries", what);
                break;
            }
            st = parse_metadata(f, e, what);
            if (st != SG_OK) break;
            continue;
        }
        if (sg_st_find(f, e->string)) {
            st = sg_error(SG_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", what, e->string);
            break;
        }
        struct sg_st_tensor *t = &f->tensors[f->n];
        f->names[f->n]         = strdup(e->string);
        if (!f->names[f->n]) {
            st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            break;
        }
        t->name = f->names[f->n];
        f->n++;
        uint64_t begin = 0, end = 0;
        st = parse_entry(t, e, data_size, what, &begin, &end);
        if (st != SG_OK) break;
        t->data         = data + begin;
        spans[f->n - 1] = (struct st_span){begin, end, f->n - 1};
    }
    if (st == SG_OK) {
        qsort(spans, (size_t)f->n, sizeof *spans, span_cmp);
        for (int i = 1; i < f->n; i++) {
            /* empty tensors occupy no bytes and cannot overlap anything */
            if (spans[i].begin == spans[i].end) continue;
            for (int j = i - 1; j >= 0; j--) {
                if (spans[j].begin == spans[j].end) continue;
                if (spans[i].begin < spans[j].end)
                    st = sg_error(SG_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap (bytes %llu..%llu and %llu..%llu)",
                                  what, f->tensors[spans[j].index].name, f->tensors[spans[i].index].name,
                                  (unsigned long long)spans[j].begin, (unsigned long long)spans[j].end,
                                  (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end);
                break;
            }
            if (st != SG_OK) break;
        }
    }
    free(spans);
    return st;
}

sg_status sg_st_parse(const void *bytes, size_t size, const char *what, struct sg_st_file **out) {
    *out             = NULL;
    const uint8_t *p = bytes;
    if (size < 8)
        return sg_error(SG_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file (8-byte header length)", what,
                        size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > size - 8)
        return sg_error(SG_ERR_FORMAT, "%s: safetensors header length %llu runs past the end of the file (%zu bytes)",
                        what, (unsigned long long)hlen, size);
    if (hlen > ST_MAX_HEADER)
        return sg_error(SG_ERR_FORMAT, "%s: safetensors header of %llu bytes is larger than the %u-byte limit", what,
                        (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen < 2 || p[8] != '{') return sg_error(SG_ERR_FORMAT, "%s: safetensors header does not start with '{'", what);

    cJSON *root = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sg_error(SG_ERR_FORMAT, "%s: safetensors header is not a JSON object", what);
    }
    struct sg_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(what))) {
        free(f);
        cJSON_Delete(root);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    sg_status st = parse_header(f, root, p + 8 + hlen, size - 8 - (size_t)hlen, what);
    cJSON_Delete(root);
    if (st != SG_OK) {
        sg_st_close(f);
        return st;
    }
    *out = f;
    return SG_OK;
}

sg_status sg_st_open(const char *path, struct sg_st_file **out) {
    *out   = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return sg_error(SG_ERR_IO, "%s: %s", path, strerror(e));
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return sg_error(SG_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file (8-byte header length)", path,
                        size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e     = errno;
    close(fd);
    if (map == MAP_FAILED) return sg_error(SG_ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(e));
    struct sg_st_file *f;
    sg_status st = sg_st_parse(map, size, path, &f);
    if (st != SG_OK) {
        munmap(map, size);
        return st;
    }
    f->map      = map;
    f->map_size = size;
    *out        = f;
    return SG_OK;
}

const char *sg_st_path(const struct sg_st_file *f) { return f->path; }
int sg_st_count(const struct sg_st_file *f) { return f->n; }

const struct sg_st_tensor *sg_st_get(const struct sg_st_file *f, int i) {
    return i >= 0 && i < f->n ? &f->tensors[i] : NULL;
}

const struct sg_st_tensor *sg_st_find(const struct sg_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        /* entries below n always have a name. NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *sg_st_metadata(const struct sg_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}
