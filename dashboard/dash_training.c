/* training_log.jsonl: every numeric field of every line with a step, one series per field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

static struct dash_series *series_for(struct dash_run *r, const char *name) {
    for (size_t i = 0; i < r->n_series; i++)
        if (strcmp(r->series[i].name, name) == 0) return &r->series[i];
    struct dash_series *s = realloc(r->series, (r->n_series + 1) * sizeof *s);
    if (!s) return NULL;
    r->series             = s;
    struct dash_series *n = &s[r->n_series];
    n->name               = strdup(name);
    n->v                  = malloc((r->cap_steps ? r->cap_steps : 1) * sizeof *n->v);
    if (!n->name || !n->v) {
        free(n->name);
        free(n->v);
        return NULL;
    }
    for (size_t k = 0; k < r->n_steps; k++) n->v[k] = NAN; /* a field that starts later */
    r->n_series++;
    return n;
}

static int grow_steps(struct dash_run *r) {
    if (r->n_steps < r->cap_steps) return 1;
    size_t cap   = r->cap_steps ? r->cap_steps * 2 : 1024;
    int64_t *stp = realloc(r->steps, cap * sizeof *stp);
    if (!stp) return 0;
    r->steps = stp;
    for (size_t i = 0; i < r->n_series; i++) {
        double *v = realloc(r->series[i].v, cap * sizeof *v);
        if (!v) return 0;
        r->series[i].v = v;
    }
    r->cap_steps = cap;
    return 1;
}

/* One parsed line: ignored without a numeric step. */
static sg_status add_line(struct dash_run *r, const cJSON *line, const char *path, size_t lineno) {
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(line, "step"), *e;
    if (!cJSON_IsNumber(step)) return SG_OK;
    if (!(step->valuedouble >= 0 && step->valuedouble <= 9007199254740992.0))
        return sg_error(SG_ERR_FORMAT, "%s: line %zu: step: %g is not a step number", path, lineno, step->valuedouble);
    if (!grow_steps(r)) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    size_t k    = r->n_steps++;
    r->steps[k] = (int64_t)step->valuedouble;
    for (size_t i = 0; i < r->n_series; i++) r->series[i].v[k] = NAN;
    cJSON_ArrayForEach(e, line) {
        if (!cJSON_IsNumber(e) || !e->string || strcmp(e->string, "step") == 0) continue;
        struct dash_series *s = series_for(r, e->string);
        if (!s) return sg_error(SG_ERR_NO_MEMORY, "%s: line %zu: out of memory", path, lineno);
        s->v[k] = e->valuedouble;
    }
    return SG_OK;
}

sg_status dash_load_training(struct dash_run *r) {
    char *path = dash_path(r->dir, "training_log.jsonl");
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (!dash_file_exists(path)) {
        dash_note(r, "training",
                  "No training_log.jsonl in this results folder (training was skipped or ran "
                  "elsewhere), so there are no training curves.");
        free(path);
        return SG_OK;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_status st = sg_error(SG_ERR_IO, "%s: cannot open", path);
        free(path);
        return st;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, bad = 0;
    ssize_t n;
    sg_status st = SG_OK;
    while (st == SG_OK && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
        if (!len) continue;
        if (bad) { /* a bad line followed by more lines: not a truncated end */
            st = sg_error(SG_ERR_FORMAT, "%s: line %zu: not a JSON object", path, bad);
            break;
        }
        cJSON *v = cJSON_ParseWithLength(line, len);
        if (!cJSON_IsObject(v)) {
            bad = lineno;
        } else {
            st = add_line(r, v, path, lineno);
            r->n_lines++;
        }
        cJSON_Delete(v);
    }
    if (st == SG_OK && bad)
        SG_LOGW("%s: line %zu, the last, is not a JSON object (a run stopped while writing?); skipped", path, bad);
    if (st == SG_OK && r->n_steps == 0)
        dash_note(r, "training", "training_log.jsonl has no line with a \"step\", so there are no training curves.");
    free(line);
    fclose(f);
    free(path);
    return st;
}
