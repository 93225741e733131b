/* Progress records of `saeg embed` (see embed_resume.h): one small JSON file per rank,
 * DIR/embeddings.progress.R.json, replaced atomically (write .tmp, fsync, rename). */
#include "cli/embed_resume.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/dist.h"

#define PROGRESS_FORMAT "saeg.embed-progress.v1"

static void progress_path(char *buf, size_t cap, const char *dir, int rank) {
    snprintf(buf, cap, "%s/embeddings.progress.%d.json", dir, rank);
}

static bool exists(const char *dir, const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void remove_all_records(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    static const char prefix[] = "embeddings.progress.";
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) != 0) continue;
        char *end;
        long rank = strtol(e->d_name + sizeof prefix - 1, &end, 10);
        if (end != e->d_name + sizeof prefix - 1 && (strcmp(end, ".json") == 0 || strcmp(end, ".json.tmp") == 0) &&
            rank >= 0 && rank <= INT32_MAX)
            embed_progress_remove(dir, (int)rank);
    }
    closedir(d);
}

sg_status embed_output_check(const char *dir, bool resume, bool overwrite, enum embed_start *out) {
    const bool have_tmp = exists(dir, "embeddings.safetensors.tmp"), have_file = exists(dir, "embeddings.safetensors");
    *out = EMBED_FRESH;
    if (overwrite) {
        if (sg_dist_rank() == 0) remove_all_records(dir);
        return SG_OK;
    }
    if (resume) {
        if (have_tmp)
            *out = EMBED_RESUME;
        else if (have_file)
            *out = EMBED_DONE;
        else
            return sg_error(SG_ERR_NOT_FOUND,
                            "--resume: %s holds no interrupted embedding (embeddings.safetensors.tmp); nothing to "
                            "resume",
                            dir);
        return SG_OK;
    }
    if (have_tmp)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s holds an interrupted embedding (embeddings.safetensors.tmp); pass --resume to continue "
                        "it, --overwrite to start afresh, or choose another --output",
                        dir);
    if (have_file)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s already holds embeddings.safetensors; pass --overwrite to replace it or choose another "
                        "--output",
                        dir);
    return SG_OK;
}

static int64_t get_i64(const cJSON *o, const char *key, bool *ok) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) {
        *ok = false;
        return 0;
    }
    return (int64_t)v->valuedouble;
}

static char *read_text(const char *path, sg_status *st) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = errno == ENOENT ? SG_ERR_NOT_FOUND : sg_error(SG_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf  = malloc(4096);
    size_t len = buf ? fread(buf, 1, 4095, f) : 0;
    fclose(f);
    if (!buf) {
        *st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

sg_status embed_progress_read(const char *dir, const struct embed_progress *want, int64_t *next) {
    char path[4200];
    progress_path(path, sizeof path, dir, want->rank);
    *next        = want->lo;
    sg_status st = SG_OK;
    char *text   = read_text(path, &st);
    if (st == SG_ERR_NOT_FOUND) return SG_OK; /* this rank never recorded anything: start at lo */
    if (!text) return st;
    cJSON *o = cJSON_Parse(text);
    free(text);
    const cJSON *fmt        = cJSON_GetObjectItemCaseSensitive(o, "format");
    bool ok                 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, PROGRESS_FORMAT) == 0;
    struct embed_progress p = {
        .ranks = (int)get_i64(o, "ranks", &ok),
        .rank  = (int)get_i64(o, "rank", &ok),
        .batch = get_i64(o, "batch", &ok),
        .lo    = get_i64(o, "lo", &ok),
        .hi    = get_i64(o, "hi", &ok),
        .next  = get_i64(o, "next", &ok),
    };
    cJSON_Delete(o);
    if (!ok || p.rank != want->rank || p.next < p.lo || p.next > p.hi)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s: not a progress record of saeg embed (damaged?); pass --overwrite to "
                        "start afresh",
                        path);
    if (p.ranks != want->ranks)
        return sg_error(SG_ERR_INVALID_ARG, "%s: the interrupted run had %d rank(s), this one %d; resume with %d", path,
                        p.ranks, want->ranks, p.ranks);
    if (p.batch != want->batch)
        return sg_error(SG_ERR_INVALID_ARG, "%s: the interrupted run used --batch %" PRId64 "; resume with it", path,
                        p.batch);
    if (p.lo != want->lo || p.hi != want->hi)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s: records rows %" PRId64 "..%" PRId64 ", this run's share is %" PRId64 "..%" PRId64
                        " (another --max-cells?); pass --overwrite to start afresh",
                        path, p.lo, p.hi, want->lo, want->hi);
    *next = p.next;
    return SG_OK;
}

sg_status embed_progress_write(const char *dir, const struct embed_progress *p) {
    char path[4200], tmp[4300], text[512];
    progress_path(path, sizeof path, dir, p->rank);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int len = snprintf(text, sizeof text,
                       "{\"format\": \"" PROGRESS_FORMAT "\", \"ranks\": %d, \"rank\": %d, \"batch\": %" PRId64
                       ", \"lo\": %" PRId64 ", \"hi\": %" PRId64 ", \"next\": %" PRId64 "}\n",
                       p->ranks, p->rank, p->batch, p->lo, p->hi, p->next);
    int fd  = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return sg_error(SG_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok = write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    ok &= close(fd) == 0;
    if (!ok || rename(tmp, path) != 0) {
        sg_status st = sg_error(SG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return st;
    }
    return SG_OK;
}

void embed_progress_remove(const char *dir, int rank) {
    char path[4200], tmp[4300];
    progress_path(path, sizeof path, dir, rank);
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* a record a kill caught half-written */
    unlink(tmp);
    unlink(path);
}
