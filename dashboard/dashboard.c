/* sg_dashboard_write: read the run directory, pick the features to show, write the page. */
#include "dashboard/dashboard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/log.h"
#include "dashboard/dash_html.h"
#include "dashboard/dash_priv.h"

sg_status sg_dashboard_parse_top_n(const char *s, long *out) {
    if (!s || !*s) return sg_error(SG_ERR_INVALID_ARG, "--top-n-features: expected a positive integer or 'all'");
    if (strcasecmp(s, "all") == 0) {
        *out = 0;
        return SG_OK;
    }
    char *end;
    errno  = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || *s < '0' || *s > '9') /* strtol skips spaces, takes signs */
        return sg_error(SG_ERR_INVALID_ARG, "--top-n-features: expected a positive integer or 'all', got '%s'", s);
    *out = v;
    return SG_OK;
}

/* The last path component of dir, for the page title. */
static void folder_name(const char *dir, char *buf, size_t cap) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && dir[s - 1] != '/') s--;
    snprintf(buf, cap, "%.*s", (int)(n - s), dir + s);
    if (!strcmp(buf, ".") || !*buf) snprintf(buf, cap, "results");
}

sg_status sg_dashboard_write(const struct sg_dashboard_opts *o, struct sg_dashboard_info *info) {
    memset(info, 0, sizeof *info);
    struct stat sb;
    if (!o->results_dir || stat(o->results_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sg_error(SG_ERR_NOT_FOUND, "--results %s: not a folder", o->results_dir ? o->results_dir : "(none)");
    if (o->top_n < 0) return sg_error(SG_ERR_INVALID_ARG, "top_n must be >= 0 (0 = all)");
    char *out = o->output ? strdup(o->output) : dash_path(o->results_dir, "dashboard.html");
    if (!out) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    snprintf(info->output, sizeof info->output, "%s", out);
    char title[256];
    if (o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else
        folder_name(o->results_dir, title, sizeof title);

    struct dash_run r   = {.dir = o->results_dir, .top_n = o->top_n};
    struct dash_jw data = {0}, page = {0};
    sg_status st = dash_load_stats(&r);
    if (st == SG_OK) st = dash_select(&r);
    if (st == SG_OK) st = dash_load_genes(&r);
    if (st == SG_OK) st = dash_load_cells(&r);
    if (st == SG_OK) st = dash_load_training(&r);
    if (st == SG_OK) st = dash_load_small(&r);
    if (st == SG_OK) st = dash_load_validation(&r);
    if (st == SG_OK) st = dash_emit(&r, title, &data);
    if (st == SG_OK) st = dash_html_build(title, &data, &page);
    dash_jw_free(&data);
    if (st == SG_OK) st = dash_html_save(out, &page);
    if (st == SG_OK) {
        info->n_features = r.n_features;
        info->n_shown    = r.n_selected;
        info->n_genes    = r.genes.n;
        info->bytes      = page.len;
        if (o->top_n == 0 && page.len > (size_t)200 << 20)
            SG_LOGW("%s is %zu MB; browsers may be slow to open it (use --top-n-features N)", out, page.len >> 20);
    }
    dash_jw_free(&page);
    dash_run_free(&r);
    free(out);
    return st;
}
