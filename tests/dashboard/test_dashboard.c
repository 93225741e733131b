/* saeg dashboard: what reaches the page is escaped, bad inputs are named down to the field, the
 * --top-n-features value is parsed strictly, and the right features are picked. The results
 * folders are written here, one small file at a time; tests/dashboard/browser_test.py opens
 * real pages in Chromium. */
#define _GNU_SOURCE /* strcasestr, nftw */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/status.h"
#include "dashboard/dash_jw.h"
#include "dashboard/dashboard.h"
#include "tests/test_util.h"

static char root[256];

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash      = '\0';
    mkdir(path, 0755); /* one level of subfolder: sae/, validation/ */
    *slash  = '/';
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

static const char *STATS =
    "{\"schema\": \"saeg.feature_stats/1\", \"n_features\": 3, \"n_tokens\": 1000, \"features\": ["
    "{\"id\": 0, \"frequency\": 0.01, \"mean_activation\": 1.0, \"max_activation\": 3.0,"
    " \"histogram\": {\"edges\": [0.1, 1, 2, 3], \"counts\": [5, 3, 2]}},"
    "{\"id\": 1, \"frequency\": 0.3},"
    "{\"id\": 2, \"frequency\": 0, \"histogram\": {\"edges\": [], \"counts\": []}}]}";
static const char *GENES =
    "{\"schema\": \"saeg.feature_gene_associations/1\", \"rank_by\": \"mean\", \"features\": ["
    "{\"id\": 0, \"genes\": [{\"ensembl_id\": \"ENSG00000122180.4\", \"symbol\": \"MYOG\","
    " \"sum\": 10, \"mean\": 2.5, \"max\": 4}]},"
    "{\"id\": 1, \"genes\": [{\"ensembl_id\": \"ENSG00000170312\", \"symbol\": \"CDK1\", \"mean\": 1}]},"
    "{\"id\": 2, \"genes\": []}]}";

static int case_no;

/* A fresh results folder holding the two required files. */
static const char *fresh(void) {
    static char dir[300];
    snprintf(dir, sizeof dir, "%s/case%d", root, ++case_no);
    mkdir(dir, 0755);
    write_file(dir, "feature_stats.json", STATS);
    write_file(dir, "feature_gene_associations.json", GENES);
    return dir;
}

static sg_status build(const char *dir, long top_n, char **page) {
    struct sg_dashboard_opts o = {.results_dir = dir, .top_n = top_n};
    struct sg_dashboard_info info;
    sg_error_clear();
    sg_status st = sg_dashboard_write(&o, &info);
    if (page) *page = st == SG_OK ? read_text(info.output) : NULL;
    return st;
}

/* The page's embedded data, parsed. */
static cJSON *page_data(const char *page) {
    const char *open = page ? strstr(page, "<script id=\"saeg-data\" type=\"application/json\">") : NULL;
    if (!open) return NULL;
    open            = strchr(open, '>') + 1;
    const char *end = strstr(open, "</script>");
    return end ? cJSON_ParseWithLength(open, (size_t)(end - open)) : NULL;
}

#define CHECK_FAILS(dir, file_and_field)                                                                               \
    do {                                                                                                               \
        sg_status st_ = build((dir), 100, NULL);                                                                       \
        CHECK_MSG(st_ != SG_OK, "expected a failure naming %s", file_and_field);                                       \
        CHECK_CONTAINS(sg_last_error(), file_and_field);                                                               \
    } while (0)

/* ---- escaping ---------------------------------------------------------------------------- */

static char *jw_string(const char *s, size_t n) {
    struct dash_jw w = {0};
    dash_jw_strn(&w, s, n);
    char *out = strdup(w.buf);
    dash_jw_free(&w);
    return out;
}

static void test_strings_cannot_close_the_script_block(void) {
    const char *evil = "</script><script>alert(1)</script><!-- & '\"\\";
    char *j          = jw_string(evil, strlen(evil));
    CHECK(!strchr(j, '<'));
    CHECK(!strchr(j, '>'));
    CHECK(!strchr(j, '&'));
    CHECK_CONTAINS(j, "\\u003c/script\\u003e");
    CHECK_CONTAINS(j, "\\\"\\\\\"");
    cJSON *back = cJSON_Parse(j); /* the escapes decode to the original text */
    CHECK(cJSON_IsString(back) && strcmp(back->valuestring, evil) == 0);
    cJSON_Delete(back);
    free(j);
}

static void test_line_separators_controls_and_bad_utf8_are_escaped(void) {
    const char in[] = "a\xe2\x80\xa8"
                      "b\xe2\x80\xa9"
                      "c\x01\x7f\n\xff\xc3\x28\xed\xa0\x80\xc3\xa9";
    char *j         = jw_string(in, sizeof in - 1);
    CHECK_CONTAINS(j, "a\\u2028b\\u2029c\\u0001\\u007f\\n");
    CHECK_CONTAINS(j, "\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\xc3\xa9"); /* bad bytes; é kept */
    for (const char *p = j; *p; p++) CHECK((unsigned char)*p >= 0x20);
    free(j);
}

static void test_writer_places_commas_and_writes_non_finite_as_null(void) {
    struct dash_jw w = {0};
    dash_jw_obj(&w);
    dash_jw_key(&w, "a");
    dash_jw_arr(&w);
    dash_jw_num(&w, 1.5, 4);
    dash_jw_num(&w, NAN, 4);
    dash_jw_int(&w, -3);
    dash_jw_arr_end(&w);
    dash_jw_key(&w, "b");
    dash_jw_obj(&w);
    dash_jw_obj_end(&w);
    dash_jw_key(&w, "c");
    dash_jw_bool(&w, true);
    dash_jw_obj_end(&w);
    CHECK(w.buf && strcmp(w.buf, "{\"a\":[1.5,null,-3],\"b\":{},\"c\":true}") == 0);
    dash_jw_free(&w);
}

static void test_page_with_hostile_strings_closes_only_its_own_scripts(void) {
    const char *dir = fresh();
    write_file(dir, "feature_gene_associations.json",
               "{\"features\": [{\"id\": 1, \"genes\": [{\"symbol\": \"</script><script>alert(1)</script>\","
               " \"ensembl_id\": \"<!--\", \"mean\": 1}, {\"ensembl_id\": \"E\\tX:1\", \"symbol\": \"S\\t\"}]}]}");
    write_file(dir, "feature_cell_associations.json",
               "{\"n_cells\": 3, \"obs_keys\": [\"</SCRIPT >\"], \"cell_type_key\": \"</script>\","
               " \"cell_types\": [{\"type\": \"<script>\", \"n_cells\": 2}],"
               " \"cells\": [{\"row\": 0, \"name\": \"</ScRiPt>\", \"obs\": {\"</SCRIPT >\": \"<img src=x "
               "onerror=alert(2)>\"}}],"
               " \"features\": [{\"id\": 1, \"top_cells\": [{\"row\": 0, \"activation\": 2}],"
               " \"enrichment\": [{\"type\": \"<script>\", \"n_active_in_type\": 1, \"n_type\": 2, \"p\": 0.5}]}]}");
    char *page   = NULL;
    sg_status st = build(dir, 0, &page);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    int closes = 0;
    for (const char *p = page; p && (p = strcasestr(p, "</script")); p++) closes++;
    CHECK_MSG(closes == 2, "%d '</script' in the page; only its two own may be there", closes);
    const char *data = page ? strstr(page, "application/json\">") : NULL;
    CHECK(data && !strstr(data, "<!--") && !strstr(data, "<img"));
    cJSON *d = page_data(page);
    CHECK(d != NULL);
    const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "genes"), 0);
    CHECK(g && strcmp(cJSON_GetArrayItem(g, 1)->valuestring, "</script><script>alert(1)</script>") == 0);
    g = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "genes"), 1); /* tabs and colons survive the gene table */
    CHECK(g && !strcmp(cJSON_GetArrayItem(g, 0)->valuestring, "E\tX:1") &&
          !strcmp(cJSON_GetArrayItem(g, 1)->valuestring, "S\t"));
    cJSON_Delete(d);
    free(page);
}

extern const char saeg_dash_js[], saeg_dash_css[], saeg_dash_html[];

/* The script and styles are pasted into <script> and <style>: they must not end those early, and
 * the script must never parse data as HTML. */
static void test_assets_stay_inside_their_blocks_and_never_parse_html(void) {
    CHECK(!strcasestr(saeg_dash_js, "</script"));
    CHECK(!strcasestr(saeg_dash_css, "</style"));
    CHECK(!strstr(saeg_dash_js, "<!--"));
    const char *html_sinks[] = {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("};
    for (size_t i = 0; i < sizeof html_sinks / sizeof html_sinks[0]; i++)
        CHECK_MSG(!strstr(saeg_dash_js, html_sinks[i]), "dashboard.js uses %s", html_sinks[i]);
    CHECK(strstr(saeg_dash_html, "Content-Security-Policy") && strstr(saeg_dash_html, "default-src 'none'"));
}

/* ---- --top-n-features --------------------------------------------------------------------- */

static void test_top_n_accepts_positive_integers_and_all(void) {
    long n = -1;
    CHECK(sg_dashboard_parse_top_n("100", &n) == SG_OK && n == 100);
    CHECK(sg_dashboard_parse_top_n("1", &n) == SG_OK && n == 1);
    CHECK(sg_dashboard_parse_top_n("all", &n) == SG_OK && n == 0);
    CHECK(sg_dashboard_parse_top_n("ALL", &n) == SG_OK && n == 0);
    const char *bad[] = {"0", "-5", "abc", "10x", "", " 5", "1e3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(sg_dashboard_parse_top_n(bad[i], &n) == SG_ERR_INVALID_ARG, "'%s' accepted", bad[i]);
        CHECK_CONTAINS(sg_last_error(), "--top-n-features");
    }
}

static void test_top_n_keeps_the_most_frequent_features_in_order(void) {
    const char *dir = fresh();
    char *page      = NULL;
    CHECK(build(dir, 2, &page) == SG_OK);
    cJSON *d = page_data(page), *f = cJSON_GetObjectItem(d, "features");
    CHECK(cJSON_GetArraySize(f) == 2);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 0), "id")->valueint == 1); /* 0.3 */
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 1), "id")->valueint == 0); /* 0.01 */
    cJSON *s = cJSON_GetObjectItem(d, "summary");
    CHECK(cJSON_GetObjectItem(s, "n_features")->valueint == 3 && cJSON_GetObjectItem(s, "n_alive")->valueint == 2);
    cJSON_Delete(d);
    free(page);
    CHECK(build(dir, 0, &page) == SG_OK); /* all: the dead feature comes last */
    d = page_data(page);
    f = cJSON_GetObjectItem(d, "features");
    CHECK(cJSON_GetArraySize(f) == 3 && cJSON_GetObjectItem(cJSON_GetArrayItem(f, 2), "id")->valueint == 2);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "summary"), "top_n")));
    cJSON_Delete(d);
    free(page);
}

static void test_cli_exit_codes(void) {
    const char *dir = fresh();
    char out[512];
    snprintf(out, sizeof out, "%s/page.html", dir);
    char *ok[] = {"dashboard", "--results", (char *)dir, "--top-n-features", "all", "--output", out, NULL};
    CHECK(saeg_cmd_dashboard(7, ok) == 0);
    CHECK(access(out, R_OK) == 0);
    char *no_results[] = {"dashboard", NULL};
    CHECK(saeg_cmd_dashboard(1, no_results) == 2);
    char *bad_n[] = {"dashboard", "--results", (char *)dir, "--top-n-features", "0", NULL};
    CHECK(saeg_cmd_dashboard(5, bad_n) == 2);
    char *unknown[] = {"dashboard", "--results", (char *)dir, "--frobnicate", NULL};
    CHECK(saeg_cmd_dashboard(4, unknown) == 2);
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nothing-here", root);
    char *no_dir[] = {"dashboard", "--results", missing, NULL};
    CHECK(saeg_cmd_dashboard(3, no_dir) == 1);
    char *help[] = {"dashboard", "--help", NULL};
    CHECK(saeg_cmd_dashboard(2, help) == 0);
}

/* ---- required inputs: errors name the file and the field ---------------------------------- */

static void test_missing_required_files_are_named(void) {
    const char *dir = fresh();
    char path[400];
    snprintf(path, sizeof path, "%s/feature_stats.json", dir);
    remove(path);
    CHECK_FAILS(dir, "feature_stats.json: not found");
    dir = fresh();
    snprintf(path, sizeof path, "%s/feature_gene_associations.json", dir);
    remove(path);
    CHECK_FAILS(dir, "feature_gene_associations.json: not found");
}

static void test_stats_errors_name_the_field(void) {
    const char *dir = fresh();
    write_file(dir, "feature_stats.json", "{\"features\": [{\"id\": 0, \"frequency\": 0.1},");
    CHECK_FAILS(dir, "feature_stats.json: not valid JSON");
    write_file(dir, "feature_stats.json",
               "{\"features\": [{\"id\": 0, \"frequency\": 0.1}, {\"id\": 1, \"frequency\": \"x\"}]}");
    CHECK_FAILS(dir, "feature_stats.json: features[1].frequency: expected a number, found a string");
    write_file(dir, "feature_stats.json", "{\"features\": [{\"id\": 0, \"frequency\": 1.5}]}");
    CHECK_FAILS(dir, "features[0].frequency: 1.5 is not a fraction");
    write_file(dir, "feature_stats.json", "{\"features\": [{\"frequency\": 0.5}]}");
    CHECK_FAILS(dir, "features[0].id: missing");
    write_file(dir, "feature_stats.json", "{\"features\": [{\"id\": -1, \"frequency\": 0.5}]}");
    CHECK_FAILS(dir, "features[0].id: expected an integer >= 0");
    write_file(
        dir, "feature_stats.json",
        "{\"features\": [{\"id\": 0, \"frequency\": 0.5, \"histogram\": {\"edges\": [0, 1], \"counts\": [1, 2]}}]}");
    CHECK_FAILS(dir, "features[0].histogram.edges: has 2 values; expected one more than counts (2)");
    write_file(dir, "feature_stats.json",
               "{\"features\": [{\"id\": 3, \"frequency\": 0.5}, {\"id\": 3, \"frequency\": 0.1}]}");
    CHECK_FAILS(dir, "feature id 3 appears more than once");
    write_file(dir, "feature_stats.json", "{\"schema\": \"saeg.feature_stats/2\", \"features\": []}");
    CHECK_FAILS(dir, "newer than this saeg reads");
    write_file(dir, "feature_stats.json", "{\"schema\": \"saeg.eval/1\", \"features\": []}");
    CHECK_FAILS(dir, "feature_stats.json: schema: expected \"saeg.feature_stats/1\"");
    write_file(dir, "feature_stats.json", "{\"features\": {\"id\": 0}}");
    CHECK_FAILS(dir, "feature_stats.json: features: expected a list");
    write_file(dir, "feature_stats.json", "{\"n_features\": 2, \"features\": [{\"id\": 0, \"frequency\": 0}]}");
    CHECK_FAILS(dir, "n_features: is 2 but features lists 1");
    write_file(dir, "feature_stats.json", "{\"features\": []} trailing");
    CHECK_FAILS(dir, "feature_stats.json: text after the JSON object");
    write_file(dir, "feature_stats.json", "[1, 2]");
    CHECK_FAILS(dir, "feature_stats.json: not a JSON object");
    write_file(dir, "feature_stats.json", "{\"features\": [{\"id\": 0, \"frequency\": 0.5},]}");
    CHECK_FAILS(dir, "feature_stats.json: not valid JSON");
}

static void test_gene_file_errors_name_the_field(void) {
    const char *dir = fresh();
    write_file(dir, "feature_gene_associations.json", "{\"features\": [{\"id\": 1, \"genes\": [{\"mean\": 1}]}]}");
    CHECK_FAILS(dir, "feature_gene_associations.json: features[0].genes[0]: needs an ensembl_id or a symbol");
    write_file(
        dir, "feature_gene_associations.json",
        "{\"features\": [{\"id\": 1, \"genes\": [{\"symbol\": \"A\"}, {\"symbol\": \"B\", \"mean\": \"high\"}]}]}");
    CHECK_FAILS(dir, "features[0].genes[1].mean: expected a number, found a string");
    write_file(dir, "feature_gene_associations.json", "{\"features\": [{\"id\": 99, \"genes\": []}]}");
    CHECK_FAILS(dir, "features[0].id: feature 99 is not in feature_stats.json");
    write_file(dir, "feature_gene_associations.json", "{\"rank_by\": \"median\", \"features\": []}");
    CHECK_FAILS(dir, "feature_gene_associations.json: rank_by: is \"median\"; expected sum, mean or max");
    write_file(dir, "feature_gene_associations.json", "{\"features\": [{\"id\": \"x7\", \"genes\": []}]}");
    CHECK_FAILS(dir, "features[0].id: expected a feature index");
    write_file(dir, "feature_gene_associations.json", "{\"features\": [{\"id\": 1}]}");
    CHECK_FAILS(dir, "features[0].genes: missing");
    write_file(dir, "feature_gene_associations.json", "{}");
    CHECK_FAILS(dir, "feature_gene_associations.json: features: missing");
    /* validate's reader accepts string ids; so does the dashboard */
    write_file(dir, "feature_gene_associations.json",
               "{\"features\": [{\"id\": \"1\", \"genes\": [{\"symbol\": \"A\"}]}]}");
    CHECK_MSG(build(dir, 100, NULL) == SG_OK, "%s", sg_last_error());
}

static void test_optional_file_errors_name_the_field(void) {
    const char *dir = fresh();
    write_file(dir, "feature_cell_associations.json",
               "{\"n_cells\": 3, \"cells\": [], \"features\": [{\"id\": 0, \"top_cells\": [{\"activation\": 1}]}]}");
    CHECK_FAILS(dir, "feature_cell_associations.json: features[0].top_cells[0].row: missing");
    write_file(dir, "feature_cell_associations.json",
               "{\"n_cells\": 3, \"cells\": [], \"features\": [{\"id\": 0, \"top_cells\": [{\"row\": 5, "
               "\"activation\": 1}]}]}");
    CHECK_FAILS(dir, "feature_cell_associations.json: cells: no entry for row 5");
    write_file(dir, "feature_cell_associations.json",
               "{\"n_cells\": 3, \"cells\": [], \"features\": [{\"id\": 0, \"top_cells\": [],"
               " \"enrichment\": [{\"type\": \"T\", \"n_active_in_type\": 1, \"n_type\": 2}]}]}");
    CHECK_FAILS(dir, "features[0].enrichment[0].p: missing");
    write_file(dir, "feature_cell_associations.json", "{\"features\": []}");
    CHECK_FAILS(dir, "feature_cell_associations.json: n_cells: missing");

    dir = fresh();
    write_file(dir, "training_log.jsonl",
               "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\"\n{\"step\": 3, \"loss\": 1}\n");
    CHECK_FAILS(dir, "training_log.jsonl: line 2: not a JSON object");
    write_file(dir, "training_log.jsonl", "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"lo"); /* killed mid-write */
    CHECK_MSG(build(dir, 100, NULL) == SG_OK, "a truncated last line is skipped: %s", sg_last_error());
    write_file(dir, "eval.json", "{\"l0\": 32,");
    CHECK_FAILS(dir, "eval.json: not valid JSON");
    write_file(dir, "eval.json", "{\"l0\": 32}");
    write_file(dir, "validation/summary.json", "{\"sources\": [{\"source\": \"../../etc\", \"status\": \"ok\"}]}");
    CHECK_FAILS(dir, "validation/summary.json: sources[0].source: \"../../etc\" is not a plain name");
    write_file(dir, "validation/summary.json", "{\"sources\": [{\"source\": \"go\", \"status\": \"ok\"}]}");
    write_file(dir, "validation/go.json", "{\"features\": [{\"id\": \"0\", \"terms\": [{\"term_name\": \"x\"}]}]}");
    CHECK_FAILS(dir, "validation/go.json: features[0].terms[0].term_id: missing");
}

static void test_missing_optional_inputs_leave_notes(void) {
    const char *dir = fresh();
    char *page      = NULL;
    CHECK(build(dir, 100, &page) == SG_OK);
    cJSON *d = page_data(page), *notes = cJSON_GetObjectItem(d, "notes");
    const char *sections[] = {"cells", "training", "eval", "sae", "validation"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        CHECK_MSG(cJSON_IsString(cJSON_GetObjectItem(notes, sections[i])), "no note for %s", sections[i]);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(d, "training")) && cJSON_IsNull(cJSON_GetObjectItem(d, "cells")));
    cJSON_Delete(d);
    free(page);
    /* cells without a cell-type column: the enrichment section says so */
    write_file(dir, "feature_cell_associations.json",
               "{\"n_cells\": 2, \"cell_type_key\": null, \"cells\": [{\"row\": 1, \"name\": \"c1\"}],"
               " \"features\": [{\"id\": 0, \"top_cells\": [{\"row\": 1, \"activation\": 1.5}]}]}");
    CHECK(build(dir, 100, &page) == SG_OK);
    d = page_data(page);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "notes"), "enrichment")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "cells"), "rows")) == 1);
    cJSON_Delete(d);
    free(page);
}

static void test_training_log_keeps_every_numeric_field_by_step(void) {
    const char *dir = fresh();
    write_file(dir, "training_log.jsonl",
               "{\"schema\": \"saeg.training_log/1\"}\n"
               "{\"step\": 10, \"loss\": 2.0, \"lr\": 0.001}\n\n"
               "{\"step\": 20, \"loss\": 1.5, \"l0\": 32, \"note\": \"x\"}\n");
    char *page = NULL;
    CHECK(build(dir, 100, &page) == SG_OK);
    cJSON *d = page_data(page), *t = cJSON_GetObjectItem(d, "training");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(t, "steps")) == 2);
    cJSON *s = cJSON_GetObjectItem(t, "series");
    CHECK(cJSON_GetArraySize(s) == 3 && !cJSON_GetObjectItem(s, "note"));
    cJSON *l0 = cJSON_GetObjectItem(s, "l0"); /* a field that starts later is null before */
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(l0, 0)) && cJSON_GetArrayItem(l0, 1)->valuedouble == 32);
    cJSON_Delete(d);
    free(page);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(void) {
    sg_log_set_level(SG_LOG_ERROR); /* the truncated-log case warns by design */
    snprintf(root, sizeof root, "%s/saeg-dash-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN_TEST(test_strings_cannot_close_the_script_block);
    RUN_TEST(test_line_separators_controls_and_bad_utf8_are_escaped);
    RUN_TEST(test_writer_places_commas_and_writes_non_finite_as_null);
    RUN_TEST(test_page_with_hostile_strings_closes_only_its_own_scripts);
    RUN_TEST(test_assets_stay_inside_their_blocks_and_never_parse_html);
    RUN_TEST(test_top_n_accepts_positive_integers_and_all);
    RUN_TEST(test_top_n_keeps_the_most_frequent_features_in_order);
    RUN_TEST(test_cli_exit_codes);
    RUN_TEST(test_missing_required_files_are_named);
    RUN_TEST(test_stats_errors_name_the_field);
    RUN_TEST(test_gene_file_errors_name_the_field);
    RUN_TEST(test_optional_file_errors_name_the_field);
    RUN_TEST(test_missing_optional_inputs_leave_notes);
    RUN_TEST(test_training_log_keeps_every_numeric_field_by_step);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_exit_code();
}
