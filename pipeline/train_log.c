/* training_log.jsonl: one JSON object per line. A resumed run first drops the lines written
 * after its checkpoint, so the curve continues from where the checkpoint left it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/train_priv.h"

/* The step of a log line, or -1. */
static long long line_step(const char *line) {
    const char *p = strstr(line, "\"step\":");
    return p ? strtoll(p + 7, NULL, 10) : -1;
}

sg_status sg_train_log_open(struct sg_train_log *l, const char *path, int64_t resume_step) {
    memset(l, 0, sizeof *l);
    if (resume_step >= 0) {
        FILE *in = fopen(path, "rb");
        if (in) {
            char tmp[4200];
            snprintf(tmp, sizeof tmp, "%s.tmp", path);
            FILE *out = fopen(tmp, "wb");
            if (!out) {
                fclose(in);
                return sg_error(SG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
            }
            char *line = NULL;
            size_t cap = 0;
            ssize_t n;
            while ((n = getline(&line, &cap, in)) > 0) {
                /* a line cut short by the kill has no newline: drop it too */
                if (line[n - 1] != '\n' || line_step(line) > resume_step) continue;
                fwrite(line, 1, (size_t)n, out);
            }
            free(line);
            fclose(in);
            bool ok = fclose(out) == 0;
            if (!ok || rename(tmp, path) != 0)
                return sg_error(SG_ERR_IO, "cannot rewrite %s: %s", path, strerror(errno));
        }
    }
    l->f = fopen(path, resume_step >= 0 ? "ab" : "wb");
    if (!l->f) return sg_error(SG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SG_OK;
}

void sg_train_log_close(struct sg_train_log *l) {
    if (l->f) fclose(l->f);
    l->f = NULL;
}
