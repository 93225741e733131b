/* libFuzzer target: the dashboard's readers on arbitrary input files. The first byte picks which
 * file of a small valid run directory the rest of the input replaces; the page is then built.
 * Any status is fine; crashes, leaks and sanitizer reports are not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "dashboard/dashboard.h"

static const char *const names[] = {"feature_stats.json",
                                    "feature_gene_associations.json",
                                    "feature_cell_associations.json",
                                    "training_log.jsonl",
                                    "eval.json",
                                    "validation/summary.json",
                                    "validation/go.json",
                                    "sae/cfg.json"};
static const char *const valid[] = {
    "{\"features\": [{\"id\": 0, \"frequency\": 0.5, \"histogram\": {\"edges\": [0, 1], \"counts\": [3]}},"
    " {\"id\": 1, \"frequency\": 0}]}",
    "{\"features\": [{\"id\": 0, \"genes\": [{\"ensembl_id\": \"E1\", \"symbol\": \"A\", \"mean\": 1}]}]}",
    "{\"n_cells\": 2, \"cell_type_key\": \"t\", \"cell_types\": [{\"type\": \"x\", \"n_cells\": 1}],"
    " \"cells\": [{\"row\": 1, \"name\": \"c\", \"obs\": {\"t\": \"x\"}}], \"features\": [{\"id\": 0,"
    " \"top_cells\": [{\"row\": 1, \"activation\": 2}], \"enrichment\": [{\"type\": \"x\", \"n_active_in_type\": 1,"
    " \"n_type\": 1, \"fold\": 2, \"p\": 0.5, \"q\": 0.5}]}]}",
    "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n",
    "{\"l0\": 3, \"density_histogram\": {\"bin_edges\": [0, 1], \"counts\": [1]}}",
    "{\"sources\": [{\"source\": \"go\", \"status\": \"ok\"}]}",
    "{\"features\": [{\"id\": \"0\", \"tested\": true, \"terms\": [{\"term_id\": \"GO:1\", \"k\": 2, \"p\": 0.1}]}]}",
    "{\"architecture\": \"topk\", \"metadata\": {\"layer\": 1}}",
};
#define N_FILES (sizeof names / sizeof names[0])

static char dir[64];

static void cleanup(void) {
    char path[160];
    for (size_t i = 0; i < N_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    const char *rest[] = {"page.html", "validation", "sae", ""};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rest[i]);
        remove(path);
    }
}

static void put(const char *name, const uint8_t *data, size_t n) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/saeg-fuzz-dash-%d", (int)getpid());
        mkdir(dir, 0755);
        char sub[96];
        snprintf(sub, sizeof sub, "%s/validation", dir);
        mkdir(sub, 0755);
        snprintf(sub, sizeof sub, "%s/sae", dir);
        mkdir(sub, 0755);
        sg_log_set_level(SG_LOG_ERROR);
        atexit(cleanup);
    }
    if (size < 1) return 0;
    size_t which = data[0] % N_FILES;
    for (size_t i = 0; i < N_FILES; i++)
        if (i == which)
            put(names[i], data + 1, size - 1);
        else
            put(names[i], (const uint8_t *)valid[i], strlen(valid[i]));
    char out[96];
    snprintf(out, sizeof out, "%s/page.html", dir);
    struct sg_dashboard_opts o = {.results_dir = dir, .output = out, .top_n = (data[0] & 0x80) ? 1 : 0};
    struct sg_dashboard_info info;
    sg_dashboard_write(&o, &info);
    return 0;
}
