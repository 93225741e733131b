/* Online clients, one test per source (ctest passes the name), against the replay server with
 * recorded-format answers (fixtures/online/): each client must build the same kind of library
 * the offline parser does, follow the service's paging, retry on 429 (Retry-After or DisGeNET's
 * header), send keys only where they belong, and, when the service keeps failing, stop with
 * an error naming the URL and status and leave nothing in the cache. MSigDB has no API (GMT
 * only), so it has no online test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tests/validation/harness.h"
#include "validation/config.h"
#include "validation/online.h"
#include "validation/sources/source.h"

static struct sgv_genes *G;
static struct th_server SRV;
static char *TMP;
static char LOGS[65536];

#define SET(...) ((const char *const[]){__VA_ARGS__, NULL})

static void capture(enum sg_log_level level, const char *msg, void *user) {
    (void)level;
    (void)user;
    size_t n = strlen(LOGS);
    snprintf(LOGS + n, sizeof LOGS - n, "%s\n", msg);
}

/* Per-source settings; {BASE} is http://127.0.0.1:<port> (or a prefix the server rejects). */
static const struct {
    const char *name, *yaml;
    const char *genes[6];
} CASES[] = {
    {"open_targets",
     "{mode: online, batch: 2, page_size: 2, min_score: 0.1, api: {url: '{BASE}/ot/graphql', rate_per_s: 200}}",
     {"BRCA1", "BRCA2", "CFTR"}},
    {"hpo",
     "{mode: online, files: {ontology: not-here.obo}, ontology_url: '{BASE}/hpo/hp.obo', api: {url: "
     "'{BASE}/hpo/network/annotation', rate_per_s: 200}}",
     {"SCN1A", "SCN2A", "FBN1"}},
    {"gwas", "{mode: online, api: {url: '{BASE}/gwas', rate_per_s: 200}}", {"PCSK9", "LDLR", "APOE"}},
    {"disgenet", "{mode: online, min_score: 0.3, api: {url: '{BASE}/disgenet', rate_per_s: 200}}", {"BRCA1", "BRCA2"}},
    {"monarch", "{mode: online, batch: 2, api: {url: '{BASE}/monarch', rate_per_s: 200}}", {"CFTR", "FBN1", "SCN1A"}},
    {"string", "{mode: online, api: {url: '{BASE}/string', rate_per_s: 200}}", {"CDK1", "CCNB1", "CDC20"}},
    {"omim", "{mode: online, api: {url: '{BASE}/omim', rate_per_s: 200}}", {"CFTR", "FBN1"}},
    {"orphanet", "{mode: online, api: {url: '{BASE}/orphadata', rate_per_s: 200}}", {"CFTR", "FBN1", "SCN1A"}},
    {"clinvar", "{mode: online, api: {url: '{BASE}/eutils', rate_per_s: 200}}", {"CFTR", "FBN1"}},
    {"gencc", "{mode: online, api: {url: '{BASE}/gencc', rate_per_s: 200}}", {"CFTR"}},
    {"go",
     "{mode: online, annotations_url: '{BASE}/go/goa_human.gaf', ontology_url: '{BASE}/go/go-basic.obo', api: {url: "
     "'{BASE}/go', rate_per_s: 200}}",
     {"CDK1"}},
    {"reactome", "{mode: online, api: {url: '{BASE}/reactome', rate_per_s: 200}}", {"CDK1"}},
    {"kegg", "{mode: online, api: {url: '{BASE}/kegg', rate_per_s: 200}}", {"CDK1"}},
};

struct run {
    struct sgv_config *cfg;
    struct sgv_online *net;
    struct sgv_source_ctx ctx;
    struct sgv_library lib;
    uint32_t bg[8];
    char shared[600], user[600];
};

static size_t case_of(const char *name) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        if (!strcmp(CASES[i].name, name)) return i;
    fprintf(stderr, "no online case for %s\n", name);
    exit(2);
}

/* Sets up config, network client (fresh caches under tag) and background genes. */
static void setup(struct run *r, const char *name, const char *base, const char *tag) {
    memset(r, 0, sizeof *r);
    size_t ci = case_of(name);
    char yaml[2048], host[128];
    snprintf(host, sizeof host, "http://127.0.0.1:%d%s", SRV.port, base);
    char *y = strdup(CASES[ci].yaml), *w = yaml;
    for (char *p = y; *p;) {
        if (!strncmp(p, "{BASE}", 6)) {
            w += sprintf(w, "%s", host);
            p += 6;
        } else
            *w++ = *p++;
    }
    *w = '\0';
    free(y);
    char doc[2300];
    snprintf(doc, sizeof doc, "databases:\n  %s: %s\n", name, yaml);
    if (sgv_config_parse(doc, strlen(doc), "online test config", &r->cfg) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        exit(1);
    }
    struct sgv_online_opts oo = sgv_online_opts_default();
    snprintf(r->shared, sizeof r->shared, "%s/%s-shared", TMP, tag);
    snprintf(r->user, sizeof r->user, "%s/%s-user", TMP, tag);
    oo.cache_dir       = r->shared;
    oo.user_cache_dir  = r->user;
    oo.http.max_tries  = 2;
    oo.http.backoff_s  = 0.01;
    oo.http.timeout_s  = 5;
    oo.http.user_agent = "saeg-test";
    if (sgv_online_new(&oo, &r->net) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        exit(1);
    }
    size_t n = 0;
    for (size_t i = 0; i < 6 && CASES[ci].genes[i]; i++)
        r->bg[n++] = (uint32_t)sgv_genes_find(G, CASES[ci].genes[i], SGV_ID_SYMBOL, NULL);
    r->ctx = (struct sgv_source_ctx){
        .cfg          = sgv_cfg_child(sgv_cfg_child(sgv_cfg_root(r->cfg), "databases"), name),
        .data_dir     = FIX,
        .env_file     = "/nonexistent/.env",
        .genes        = G,
        .net          = r->net,
        .background   = r->bg,
        .n_background = n,
        .src          = sgv_source_find(name),
    };
    sgv_library_init(&r->lib, name);
}

static sg_status go_online(struct run *r) { return r->ctx.src->load_online(&r->ctx, &r->lib); }

static void teardown(struct run *r) {
    sgv_library_free(&r->lib);
    sgv_online_free(r->net);
    sgv_config_free(r->cfg);
    free(r->ctx.version);
}

/* The service answers 500 to everything under /broken: the client retries, then fails naming
 * the URL and status, and caches nothing. */
static void check_failure(const char *name) {
    struct run r;
    setup(&r, name, "/broken", "broken");
    sg_status st =
        r.ctx.src->ppi_online ? r.ctx.src->ppi_online(&r.ctx, r.bg, 3, &(struct sgv_ppi_result){0}) : go_online(&r);
    TH_CHECKF(st == SG_ERR_NETWORK, "%s against a failing service: status %d (%s)", name, st, sg_last_error());
    TH_CHECKF(th_contains(sg_last_error(), "/broken/") && th_contains(sg_last_error(), "HTTP 500") &&
                  th_contains(sg_last_error(), "2 tries"),
              "%s", sg_last_error());
    TH_CHECKF(th_count_files(r.shared) == 0 && th_count_files(r.user) == 0, "%s cached something from failed answers",
              name);
    teardown(&r);
}

static void online_open_targets(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "MONDO_0007254", SET("BRCA1", "BRCA2")));
    TH_CHECK(th_term_is(&r->lib, G, "EFO_0000305", SET("BRCA1", "BRCA2"))); /* second page fetched ... */
    TH_CHECK(!sgv_strmap_get(&r->lib.index, "EFO_0000311", NULL));          /* ... and its low score dropped */
    TH_CHECK(th_term_is(&r->lib, G, "MONDO_0009061", SET("CFTR")));
    TH_CHECK(r->ctx.version && !strcmp(r->ctx.version, "24.06"));
}

static void online_hpo(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "HP:0001250", SET("SCN1A", "SCN2A"))); /* after a 429 for SCN2A */
    TH_CHECK(th_term_is(&r->lib, G, "HP:0002373", SET("SCN1A")));
    TH_CHECK(th_term_is(&r->lib, G, "HP:0012638", SET("SCN1A", "SCN2A"))); /* propagated with the downloaded hp.obo */
    TH_CHECK(r->ctx.version && !strcmp(r->ctx.version, "hp/releases/2024-04-26"));
    TH_CHECK(th_server_count(&SRV, "/hpo/network/annotation/NCBIGene%3A6326") == 2);
}

static void online_gwas(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "EFO_0004611", SET("PCSK9", "LDLR")));
    TH_CHECK(th_term_is(&r->lib, G, "EFO_0001645", SET("PCSK9"))); /* page 2 */
    TH_CHECK(!sgv_strmap_get(&r->lib.index, "EFO_0004530", NULL)); /* p = 1e-6 is not genome-wide */
}

static void online_disgenet(struct run *r) {
    setenv("DISGENET_API_KEY", "dg-test-key-7", 1);
    LOGS[0] = '\0';
    sg_log_set_callback(capture, NULL);
    sg_log_set_level(SG_LOG_DEBUG);
    sg_status st = go_online(r);
    sg_log_set_callback(NULL, NULL);
    sg_log_set_level(SG_LOG_INFO);
    TH_CHECKF(st == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "C0000001", SET("BRCA1", "BRCA2")));
    TH_CHECK(th_term_is(&r->lib, G, "C0000002", SET("BRCA1")));
    TH_CHECK(!sgv_strmap_get(&r->lib.index, "C0000003", NULL));
    char *state = th_server_state(&SRV);
    TH_CHECK(th_contains(state, "\"authorization\": \"dg-test-key-7\""));
    free(state);
    TH_CHECK(!th_contains(LOGS, "dg-test-key-7"));
    /* licence: cached under the user cache only, and the key is not in it */
    TH_CHECK(th_count_files(r->shared) == 0 && th_count_files(r->user) > 0 &&
             !th_dir_contains(r->user, "dg-test-key-7"));
    unsetenv("DISGENET_API_KEY");
    struct sgv_library lib2;
    sgv_library_init(&lib2, "disgenet");
    TH_CHECK(r->ctx.src->load_online(&r->ctx, &lib2) == SG_ERR_NOT_FOUND &&
             th_contains(sg_last_error(), "DISGENET_API_KEY"));
    sgv_library_free(&lib2);
}

static void online_monarch(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "MONDO:0009061", SET("CFTR")));
    TH_CHECK(th_term_is(&r->lib, G, "MONDO:0007947", SET("FBN1", "SCN1A"))); /* second page at offset 500 */
    TH_CHECK(th_term_is(&r->lib, G, "MONDO:0100135", SET("SCN1A")));         /* negated FBN1 item dropped */
}

static void online_string(struct run *r) {
    struct sgv_ppi_result p;
    TH_CHECKF(r->ctx.src->ppi_online(&r->ctx, r->bg, 3, &p) == SG_OK, "%s", sg_last_error());
    TH_CHECK(p.n_nodes == 3 && p.edges == 3 && p.expected == 0.5 && fabs(exp(p.logp) - 0.0021) < 1e-15);
    TH_CHECK(r->ctx.version && !strcmp(r->ctx.version, "12.0"));
}

static void online_omim(struct run *r) {
    setenv("OMIM_API_KEY", "omim-test-key", 1);
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "OMIM:900101", SET("CFTR")));
    TH_CHECK(th_term_is(&r->lib, G, "OMIM:900201", SET("FBN1")));
    TH_CHECK(r->lib.n_terms == 2); /* {susceptibility} and mapping key 2 dropped */
    TH_CHECK(th_count_files(r->shared) == 0 && th_count_files(r->user) > 0 &&
             !th_dir_contains(r->user, "omim-test-key"));
    unsetenv("OMIM_API_KEY");
}

static void online_orphanet(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "ORPHA:586", SET("CFTR")));   /* one disorder: an object */
    TH_CHECK(th_term_is(&r->lib, G, "ORPHA:558", SET("FBN1")));   /* several: a list */
    TH_CHECK(!sgv_strmap_get(&r->lib.index, "ORPHA:1234", NULL)); /* candidate gene, not disease-causing */
    TH_CHECK(th_server_count(&SRV, "/orphadata/rd-associated-genes/genes/symbols/cftr") == 1); /* lower case */
}

static void online_clinvar(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "C0010674", SET("CFTR")));
    TH_CHECK(th_term_is(&r->lib, G, "C4015352", SET("CFTR"))); /* pre-2024 trait_set layout */
    TH_CHECK(r->lib.n_terms == 2 && th_server_count(&SRV, "/eutils/esummary.fcgi") == 1);
}

static void online_gencc(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "MONDO:0009061", SET("CFTR")));
    TH_CHECK(th_term_is(&r->lib, G, "MONDO:0100135", SET("SCN1A")));
    TH_CHECK(th_count_files(r->shared) == 1); /* the export, kept for the day's runs */
}

static void online_go(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "GO:0007049", SET("CDK1", "CCNB1", "AURKA", "PLK1", "CDC20", "TOP2A")));
    /* a second run reuses the downloaded files */
    int before = th_server_count(&SRV, "/go/goa_human.gaf");
    struct sgv_library again;
    sgv_library_init(&again, "go");
    TH_CHECK(r->ctx.src->load_online(&r->ctx, &again) == SG_OK && again.n_terms == r->lib.n_terms);
    TH_CHECK(th_server_count(&SRV, "/go/goa_human.gaf") == before);
    sgv_library_free(&again);
}

static void online_reactome(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "R-HSA-69278", SET("CDK1", "CCNB1", "CDC20")));
    TH_CHECK(r->ctx.version && !strcmp(r->ctx.version, "88"));
}

static void online_kegg(struct run *r) {
    TH_CHECKF(go_online(r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&r->lib, G, "hsa04110", SET("CDK1", "CCNB1", "CDC20")));
    TH_CHECK(th_term_is(&r->lib, G, "hsa04657", SET("IL6", "TNF")));
    int32_t t;
    TH_CHECK(sgv_strmap_get(&r->lib.index, "hsa04110", &t) && !strcmp(r->lib.terms[t].name, "Cell cycle"));
    TH_CHECK(r->ctx.version && !strcmp(r->ctx.version, "110.0+/06-18"));
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*fn)(struct run *);
    } tests[] = {
        {"open_targets", online_open_targets},
        {"hpo", online_hpo},
        {"gwas", online_gwas},
        {"disgenet", online_disgenet},
        {"monarch", online_monarch},
        {"string", online_string},
        {"omim", online_omim},
        {"orphanet", online_orphanet},
        {"clinvar", online_clinvar},
        {"gencc", online_gencc},
        {"go", online_go},
        {"reactome", online_reactome},
        {"kegg", online_kegg},
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOURCE\n", argv[0]);
        return 2;
    }
    G   = th_genes();
    TMP = th_tmpdir("online");
    if (th_server_start(FIX "/online/scenario.json", &SRV) != 0) return 1;
    int found = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(tests[i].name, argv[1])) continue;
        found = 1;
        fprintf(stderr, "-- %s online client\n", argv[1]);
        if (!strcmp(argv[1], "disgenet")) setenv("DISGENET_API_KEY", "dg-test-key-7", 1);
        if (!strcmp(argv[1], "omim")) setenv("OMIM_API_KEY", "omim-test-key", 1);
        struct run r;
        setup(&r, argv[1], "", "ok");
        tests[i].fn(&r);
        teardown(&r);
        fprintf(stderr, "-- %s against a failing service\n", argv[1]);
        if (!strcmp(argv[1], "disgenet")) setenv("DISGENET_API_KEY", "dg-test-key-7", 1);
        if (!strcmp(argv[1], "omim")) setenv("OMIM_API_KEY", "omim-test-key", 1);
        check_failure(argv[1]);
    }
    th_server_stop(&SRV);
    th_rmtree(TMP);
    free(TMP);
    sgv_genes_free(G);
    if (!found) {
        fprintf(stderr, "no online client test for %s\n", argv[1]);
        return 2;
    }
    return th_report();
}
