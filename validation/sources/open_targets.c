/* Open Targets Platform: direct target–disease association scores. Offline: the JSON-lines
 * association files (associationByOverallDirect/part-*.json, releases up to 24.09; Parquet
 * releases need converting: Debian has no Arrow/Parquet reader). Online: the GraphQL API,
 * targets queried in batches. Associations below min_score are dropped (scores rank, they are
 * not probabilities). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/fsutil.h"
#include "validation/sources/source.h"
#include "validation/textfile.h"

static const char *const ot_files[]   = {"associations", NULL};
static const char *const ot_options[] = {"min_score", "batch", "page_size", NULL};

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The JSON-lines part files of a dataset folder (or the one file given), sorted. */
static sg_status ot_parts(const char *path, char ***out, size_t *n) {
    *out = NULL;
    *n   = 0;
    if (!sgv_is_dir(path)) {
        if (ends_with(path, ".parquet"))
            return sg_error(SG_ERR_UNSUPPORTED,
                            "%s: Parquet is not readable here (no Arrow/Parquet in Debian); "
                            "use a JSON release (24.09 or earlier) or convert the files to JSON lines",
                            path);
        *out = malloc(sizeof **out);
        if (!*out || !((*out)[0] = strdup(path))) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        *n = 1;
        return SG_OK;
    }
    DIR *d = opendir(path);
    if (!d) return sg_error(SG_ERR_IO, "%s: cannot list the folder", path);
    size_t cap = 0, parquet = 0;
    sg_status st = SG_OK;
    for (struct dirent *e; st == SG_OK && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        parquet += ends_with(e->d_name, ".parquet");
        if (!ends_with(e->d_name, ".json") && !ends_with(e->d_name, ".json.gz") && !ends_with(e->d_name, ".jsonl"))
            continue;
        if (*n == cap) {
            cap      = cap ? cap * 2 : 64;
            char **l = realloc(*out, cap * sizeof *l);
            if (!l) {
                st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
                break;
            }
            *out = l;
        }
        (*out)[(*n)++] = sgv_path_join(path, e->d_name);
    }
    closedir(d);
    if (st == SG_OK && *n == 0)
        st = sg_error(parquet ? SG_ERR_UNSUPPORTED : SG_ERR_NOT_FOUND,
                      parquet ? "%s: only Parquet parts (release 25.03+); convert them to JSON lines first"
                              : "%s: no .json part files",
                      path);
    if (st == SG_OK) qsort(*out, *n, sizeof **out, cmp_str);
    return st;
}

static void free_list(char **l, size_t n) {
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* Calls fn for every JSON object line of every part file. */
static sg_status ot_each_line(const char *path, sg_status (*fn)(cJSON *o, const char *file, long line, void *u),
                              void *u) {
    char **parts;
    size_t n;
    sg_status st = ot_parts(path, &parts, &n);
    for (size_t i = 0; st == SG_OK && i < n; i++) {
        struct sgv_lines r;
        st = sgv_lines_open(&r, parts[i]);
        char *line;
        int rc = 0;
        while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
            if (!*sgv_trim(line)) continue;
            cJSON *o = cJSON_Parse(line);
            if (!cJSON_IsObject(o))
                st = sg_error(SG_ERR_FORMAT, "%s: line %ld is not a JSON object", parts[i], r.lineno);
            else
                st = fn(o, parts[i], r.lineno, u);
            cJSON_Delete(o);
        }
        if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
        sgv_lines_close(&r);
    }
    free_list(parts, n);
    return st;
}

struct ot_ctx {
    struct sgv_source_ctx *c;
    struct sgv_library *lib;
    double min_score;
};

static sg_status ot_assoc(cJSON *o, const char *file, long line, void *u) {
    struct ot_ctx *x = u;
    const cJSON *d   = cJSON_GetObjectItemCaseSensitive(o, "diseaseId");
    const cJSON *t   = cJSON_GetObjectItemCaseSensitive(o, "targetId");
    const cJSON *s   = cJSON_GetObjectItemCaseSensitive(o, "score");
    if (!cJSON_IsString(d) || !cJSON_IsString(t) || !cJSON_IsNumber(s))
        return sg_error(SG_ERR_FORMAT, "%s: line %ld: needs diseaseId, targetId (strings) and score (number)", file,
                        line);
    if (s->valuedouble < x->min_score) return SG_OK;
    return sgv_library_add_id(x->lib, x->c->genes, d->valuestring, NULL, t->valuestring, SGV_ID_ENSEMBL);
}

static sg_status ot_disease(cJSON *o, const char *file, long line, void *u) {
    (void)file;
    (void)line;
    struct ot_ctx *x  = u;
    const cJSON *id   = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    int32_t t;
    if (cJSON_IsString(id) && cJSON_IsString(name) && sgv_strmap_get(&x->lib->index, id->valuestring, &t))
        sgv_library_term(x->lib, id->valuestring, name->valuestring);
    return SG_OK;
}

static sg_status ot_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct ot_ctx x = {c, lib, 0};
    char *assoc     = sgv_src_file(c, "associations");
    sg_status st    = assoc ? sgv_src_opt_num(c, "min_score", 0.1, &x.min_score) : SG_ERR_NOT_FOUND;
    if (st == SG_OK) st = ot_each_line(assoc, ot_assoc, &x);
    if (st == SG_OK && sgv_src_file_set(c, "diseases")) { /* optional: disease names */
        char *dis = sgv_src_file(c, "diseases");
        st        = dis ? ot_each_line(dis, ot_disease, &x) : SG_ERR_NOT_FOUND;
        free(dis);
    }
    if (st == SG_OK) st = sgv_library_finish(lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(assoc);
    return st;
}

static sg_status ot_post(struct sgv_source_ctx *c, const char *url, cJSON *body, cJSON **data) {
    char *text = cJSON_PrintUnformatted(body);
    if (!text) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    static const char *const hdr[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    struct sg_http_request rq = {.method = "POST", .url = url, .headers = hdr, .body = text, .body_len = strlen(text)};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    cJSON_free(text);
    if (st != SG_OK) return st;
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    if (cJSON_IsArray(errs) && cJSON_GetArraySize(errs) > 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errs, 0), "message");
        st               = sg_error(SG_ERR_FORMAT, "open_targets: GraphQL error: %s",
                      cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    }
    *data = cJSON_DetachItemFromObjectCaseSensitive(j, "data");
    if (st == SG_OK && !cJSON_IsObject(*data))
        st = sg_error(SG_ERR_FORMAT, "open_targets: response has no 'data' object");
    cJSON_Delete(j);
    if (st != SG_OK) {
        cJSON_Delete(*data);
        *data = NULL;
    }
    return st;
}

static sg_status ot_version(const struct sgv_source_ctx *c, const char *url, char *buf, size_t cap) {
    cJSON *body = cJSON_CreateObject(), *data = NULL;
    cJSON_AddStringToObject(body, "query", "{ meta { dataVersion { year month } apiVersion { x y z } } }");
    struct sgv_source_ctx tmp = *c;
    tmp.version               = NULL; /* cached for the day only */
    sg_status st              = ot_post(&tmp, url, body, &data);
    cJSON_Delete(body);
    if (st != SG_OK) return st;
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, "meta"), "dataVersion");
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(dv, "year"), *m = cJSON_GetObjectItemCaseSensitive(dv, "month");
    if (cJSON_IsString(y) && cJSON_IsString(m))
        snprintf(buf, cap, "%s.%s", y->valuestring, m->valuestring);
    else if (cJSON_IsNumber(y) && cJSON_IsNumber(m))
        snprintf(buf, cap, "%d.%02d", y->valueint, m->valueint);
    else
        st = sg_error(SG_ERR_FORMAT, "open_targets: meta.dataVersion has no year/month");
    cJSON_Delete(data);
    return st;
}

static const char ot_query[] =
    "query($ids:[String!]!,$index:Int!,$size:Int!){ targets(ensemblIds:$ids){ id "
    "associatedDiseases(page:{index:$index,size:$size}){ count rows{ score disease{ id name } } } } }";

/* One batch of targets, page by page, until every target's rows fall below min_score. */
static sg_status ot_batch(struct sgv_source_ctx *c, const char *url, const char **ids, size_t n, unsigned page_size,
                          double min_score, struct sgv_library *lib) {
    sg_status st = SG_OK;
    for (int index = 0, more = 1; st == SG_OK && more; index++) {
        cJSON *body = cJSON_CreateObject(), *vars = cJSON_AddObjectToObject(body, "variables");
        cJSON_AddStringToObject(body, "query", ot_query);
        cJSON_AddItemToObject(vars, "ids", cJSON_CreateStringArray(ids, (int)n));
        cJSON_AddNumberToObject(vars, "index", index);
        cJSON_AddNumberToObject(vars, "size", page_size);
        cJSON *data = NULL;
        st          = ot_post(c, url, body, &data);
        cJSON_Delete(body);
        more                 = 0;
        const cJSON *targets = st == SG_OK ? cJSON_GetObjectItemCaseSensitive(data, "targets") : NULL;
        if (st == SG_OK && !cJSON_IsArray(targets))
            st = sg_error(SG_ERR_FORMAT, "open_targets: data.targets is not a list");
        const cJSON *t;
        const cJSON *tlist = st == SG_OK ? targets : NULL;
        cJSON_ArrayForEach(t, tlist) {
            const cJSON *id    = cJSON_GetObjectItemCaseSensitive(t, "id");
            const cJSON *ad    = cJSON_GetObjectItemCaseSensitive(t, "associatedDiseases");
            const cJSON *count = cJSON_GetObjectItemCaseSensitive(ad, "count");
            const cJSON *rows  = cJSON_GetObjectItemCaseSensitive(ad, "rows"), *r;
            if (!cJSON_IsString(id) || !cJSON_IsArray(rows)) {
                st = sg_error(SG_ERR_FORMAT, "open_targets: a target lacks id or associatedDiseases.rows");
                break;
            }
            double last = 1.0;
            cJSON_ArrayForEach(r, rows) {
                const cJSON *s   = cJSON_GetObjectItemCaseSensitive(r, "score");
                const cJSON *d   = cJSON_GetObjectItemCaseSensitive(r, "disease");
                const cJSON *did = cJSON_GetObjectItemCaseSensitive(d, "id"),
                            *dn  = cJSON_GetObjectItemCaseSensitive(d, "name");
                if (!cJSON_IsNumber(s) || !cJSON_IsString(did)) continue;
                last = s->valuedouble;
                if (last >= min_score && st == SG_OK)
                    st =
                        sgv_library_add_id(lib, c->genes, did->valuestring, cJSON_IsString(dn) ? dn->valuestring : NULL,
                                           id->valuestring, SGV_ID_ENSEMBL);
            }
            /* rows come best first: another page only when this one ended above the cut-off */
            if (cJSON_IsNumber(count) && (double)(index + 1) * page_size < count->valuedouble && last >= min_score)
                more = 1;
        }
        cJSON_Delete(data);
    }
    return st;
}

static sg_status ot_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *url        = NULL, version[64];
    double min_score = 0.1, batch_d = 25, page_d = 500;
    sg_status st = sgv_src_api(c, &url);
    if (st == SG_OK) st = sgv_src_opt_num(c, "min_score", 0.1, &min_score);
    if (st == SG_OK) st = sgv_src_opt_num(c, "batch", 25, &batch_d);
    if (st == SG_OK) st = sgv_src_opt_num(c, "page_size", 500, &page_d);
    if (st == SG_OK && (batch_d < 1 || page_d < 1 || batch_d > 1e6 || page_d > 1e6))
        st = sg_error(SG_ERR_INVALID_ARG, "%s: batch and page_size must be between 1 and 1000000", c->cfg.path);
    if (st == SG_OK) st = ot_version(c, url, version, sizeof version);
    if (st == SG_OK) sgv_src_set_version(c, lib, version);
    size_t batch = (size_t)batch_d, n = 0;
    const char **ids = calloc(batch, sizeof *ids);
    if (st == SG_OK && !ids) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == SG_OK && i <= c->n_background; i++) {
        const char *e = i < c->n_background ? sgv_gene_id_of(c->genes, c->background[i], SGV_ID_ENSEMBL) : NULL;
        if (e) ids[n++] = e;
        if (n == batch || (i == c->n_background && n)) {
            st = ot_batch(c, url, ids, n, (unsigned)page_d, min_score, lib);
            n  = 0;
        }
    }
    if (st == SG_OK) st = sgv_library_finish(lib);
    free(ids);
    free(url);
    return st;
}

const struct sgv_source sgv_source_open_targets = {
    .name         = "open_targets",
    .title        = "Open Targets Platform",
    .tier         = 1,
    .licence      = "CC0 1.0 (platform data)",
    .attribution  = "Open Targets Platform (https://platform.opentargets.org), Ochoa et al., Nucleic Acids Res.",
    .term_url     = "https://platform.opentargets.org/disease/%s",
    .files        = ot_files,
    .options      = ot_options,
    .api_url      = "https://api.platform.opentargets.org/api/v4/graphql",
    .api_rate     = 5,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = ot_offline,
    .load_online  = ot_online,
};
