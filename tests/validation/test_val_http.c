/* io/http.c and the response cache against the local replay server: retries with backoff,
 * Retry-After (both spellings), giving up with a message naming URL and status, truncated
 * bodies, timeouts, gzip, key redaction, resumable downloads, the per-host rate limit, and
 * that nothing from a failed or unreadable response is cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "io/http.h"
#include "tests/validation/harness.h"
#include "validation/cache.h"
#include "validation/online.h"

static char *DIR_;
static struct th_server SRV;
static char LOGBUF[65536];

static void capture(enum sg_log_level level, const char *msg, void *user) {
    (void)level;
    (void)user;
    size_t n = strlen(LOGBUF);
    snprintf(LOGBUF + n, sizeof LOGBUF - n, "%s\n", msg);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *url(const char *path) {
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "http://127.0.0.1:%d%s", SRV.port, path);
    return buf[i];
}

static struct sg_http *client(double timeout, int tries) {
    struct sg_http_opts o = sg_http_opts_default();
    o.user_agent          = "saeg-test/1.0";
    o.timeout_s           = timeout;
    o.connect_timeout_s   = 2;
    o.max_tries           = tries;
    o.backoff_s           = 0.01;
    o.backoff_max_s       = 0.05;
    o.retry_after_max_s   = 5;
    struct sg_http *h;
    if (sg_http_new(&o, &h) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        exit(1);
    }
    return h;
}

static void test_retry_after_is_honoured_then_succeeds(void) {
    struct sg_http *h = client(5, 3);
    struct sg_http_response r;
    double t0 = now();
    TH_CHECKF(sg_http_get(h, url("/retry-after"), NULL, &r) == SG_OK, "%s", sg_last_error());
    double dt = now() - t0;
    TH_CHECK(r.status == 200 && r.tries == 2 && !strcmp(r.body, "ok"));
    TH_CHECKF(dt >= 0.95, "waited %.2f s, server asked for 1 s", dt);
    sg_http_response_free(&r);
    t0 = now();
    TH_CHECK(sg_http_get(h, url("/disgenet-limit"), NULL, &r) == SG_OK && r.tries == 2);
    TH_CHECKF(now() - t0 >= 0.95, "x-rate-limit-retry-after-seconds ignored (%.2f s)", now() - t0);
    sg_http_response_free(&r);
    /* a wait longer than retry_after_max_s fails at once, saying why */
    t0 = now();
    TH_CHECK(sg_http_get(h, url("/retry-forever"), NULL, &r) == SG_ERR_NETWORK);
    TH_CHECKF(th_contains(sg_last_error(), "3600") && now() - t0 < 2, "%s", sg_last_error());
    sg_http_response_free(&r);
    sg_http_free(h);
}

static void test_server_errors_retry_then_name_url_and_status(void) {
    struct sg_http *h = client(5, 3);
    struct sg_http_response r;
    int before = th_server_count(&SRV, "/always-500");
    TH_CHECK(sg_http_get(h, url("/always-500"), NULL, &r) == SG_ERR_NETWORK);
    TH_CHECKF(th_contains(sg_last_error(), url("/always-500")) && th_contains(sg_last_error(), "HTTP 500") &&
                  th_contains(sg_last_error(), "3 tries"),
              "%s", sg_last_error());
    TH_CHECK(th_server_count(&SRV, "/always-500") - before == 3 && r.status == 500);
    sg_http_response_free(&r);
    /* 404 is an answer, not a reason to retry */
    before = th_server_count(&SRV, "/missing");
    TH_CHECK(sg_http_get(h, url("/missing"), NULL, &r) == SG_ERR_NETWORK && th_contains(sg_last_error(), "HTTP 404"));
    TH_CHECK(th_server_count(&SRV, "/missing") - before == 1);
    sg_http_response_free(&r);
    struct sg_http_request rq = {.url = url("/missing"), .accept_status = 404};
    TH_CHECK(sg_http_request(h, &rq, &r) == SG_OK && r.status == 404);
    sg_http_response_free(&r);
    sg_http_free(h);
}

static void test_truncated_body_is_retried_not_returned(void) {
    struct sg_http *h = client(5, 3);
    struct sg_http_response r;
    TH_CHECKF(sg_http_get(h, url("/truncated"), NULL, &r) == SG_OK, "%s", sg_last_error());
    TH_CHECK(r.tries == 2 && r.len == 20000);
    sg_http_response_free(&r);
    TH_CHECK(sg_http_get(h, url("/always-truncated"), NULL, &r) == SG_ERR_NETWORK);
    TH_CHECKF(th_contains(sg_last_error(), "/always-truncated") && r.body == NULL, "%s", sg_last_error());
    sg_http_response_free(&r);
    sg_http_free(h);
}

static void test_timeouts_are_retried_then_reported(void) {
    struct sg_http *h = client(0.4, 2);
    struct sg_http_response r;
    TH_CHECKF(sg_http_get(h, url("/slow-then-fast"), NULL, &r) == SG_OK && !strcmp(r.body, "fast"), "%s",
              sg_last_error());
    sg_http_response_free(&r);
    TH_CHECK(sg_http_get(h, url("/slow"), NULL, &r) == SG_ERR_NETWORK);
    TH_CHECKF(th_contains(sg_last_error(), "imeout") && th_contains(sg_last_error(), "/slow"), "%s", sg_last_error());
    sg_http_response_free(&r);
    sg_http_free(h);
}

static void test_gzip_bodies_are_decoded(void) {
    struct sg_http *h = client(5, 1);
    struct sg_http_response r;
    TH_CHECK(sg_http_get(h, url("/gzip"), NULL, &r) == SG_OK && r.len == 20000 && r.body[0] == 'l');
    sg_http_response_free(&r);
    char *st = th_server_state(&SRV);
    TH_CHECK(th_contains(st, "\"accept-encoding\": \"") && th_contains(st, "gzip"));
    TH_CHECK(th_contains(st, "\"user-agent\": \"saeg-test/1.0\""));
    free(st);
    sg_http_free(h);
}

static void test_keys_never_reach_logs_or_errors(void) {
    struct sg_http *h = client(5, 2);
    struct sg_http_response r;
    LOGBUF[0] = '\0';
    sg_log_set_callback(capture, NULL);
    sg_log_set_level(SG_LOG_DEBUG);
    TH_CHECK(sg_http_get(h, url("/always-500?apiKey=SECRET123&mimNumber=1"), NULL, &r) == SG_ERR_NETWORK);
    sg_log_set_callback(NULL, NULL);
    sg_log_set_level(SG_LOG_INFO);
    TH_CHECKF(!th_contains(sg_last_error(), "SECRET123") && th_contains(sg_last_error(), "apiKey=REDACTED&mimNumber=1"),
              "%s", sg_last_error());
    TH_CHECKF(LOGBUF[0] && !th_contains(LOGBUF, "SECRET123"), "log: %s", LOGBUF);
    sg_http_response_free(&r);
    char buf[256];
    sg_http_redact_url("https://x.org/a?api_key=k1&token=t&author=Smith&sig=s#frag", buf, sizeof buf);
    TH_CHECKF(!strcmp(buf, "https://x.org/a?api_key=REDACTED&token=REDACTED&author=Smith&sig=REDACTED"), "%s", buf);
    sg_http_free(h);
}

static void test_post_sends_body_and_headers(void) {
    struct sg_http *h         = client(5, 1);
    const char *hdr[]         = {"Content-Type: application/json", NULL};
    struct sg_http_request rq = {
        .method = "POST", .url = url("/post"), .headers = hdr, .body = "{\"x\":1}", .body_len = 7};
    struct sg_http_response r;
    TH_CHECKF(sg_http_request(h, &rq, &r) == SG_OK && !strcmp(r.body, "posted"), "%s", sg_last_error());
    sg_http_response_free(&r);
    sg_http_free(h);
}

static long fsize(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static int progress_calls;
static int on_progress(int64_t done, int64_t total, void *user) {
    (void)user;
    progress_calls += done >= 0 && (total == -1 || done <= total);
    return 0;
}

static void test_download_resumes_and_renames_only_when_complete(void) {
    struct sg_http *h = client(5, 3);
    char path[600], part[620];
    snprintf(path, sizeof path, "%s/file.bin", DIR_);
    snprintf(part, sizeof part, "%s.part", path);
    /* first try is cut at 1000 bytes; the retry must ask for the rest with a Range request */
    TH_CHECKF(sg_http_download(h, url("/flaky-download"), NULL, path, on_progress, NULL) == SG_OK, "%s",
              sg_last_error());
    TH_CHECK(fsize(path) == 20000 && fsize(part) == -1 && progress_calls > 0);
    char *st = th_server_state(&SRV);
    TH_CHECKF(th_contains(st, "\"range\": \"bytes=1000-\""), "no resume request seen");
    free(st);
    char big[600];
    snprintf(big, sizeof big, "%s/big.txt", DIR_);
    char *a = th_read(path), *b = th_read(big);
    TH_CHECK(a && b && !memcmp(a, b, 20000)); /* resumed bytes land after the first 1000 */
    free(a);
    free(b);
    /* a server that ignores Range restarts the file instead of appending to it */
    unlink(path);
    th_write(part, "garbage-prefix");
    TH_CHECK(sg_http_download(h, url("/norange-download"), NULL, path, NULL, NULL) == SG_OK);
    a = th_read(path);
    TH_CHECK(fsize(path) == 20000 && a && !strncmp(a, "line", 4));
    free(a);
    /* a download that never completes keeps its .part and leaves no file behind */
    unlink(path);
    TH_CHECK(sg_http_download(h, url("/always-truncated"), NULL, path, NULL, NULL) == SG_ERR_NETWORK);
    TH_CHECKF(fsize(path) == -1 && fsize(part) > 0 && th_contains(sg_last_error(), ".part"), "%s", sg_last_error());
    sg_http_free(h);
}

static void test_rate_limit_spaces_requests_per_host(void) {
    struct sg_http *h = client(5, 1);
    TH_CHECK(sg_http_set_rate(h, "127.0.0.1", 5.0) == SG_OK);
    TH_CHECK(sg_http_set_rate(h, "127.0.0.1", 0) == SG_ERR_INVALID_ARG);
    double t0 = now();
    for (int i = 0; i < 4; i++) {
        struct sg_http_response r;
        TH_CHECK(sg_http_get(h, url("/ok"), NULL, &r) == SG_OK);
        sg_http_response_free(&r);
    }
    TH_CHECKF(now() - t0 >= 0.58, "4 requests at 5/s took %.2f s", now() - t0);
    sg_http_free(h);
}

static void test_cache_keys_sort_params_and_ignore_secrets(void) {
    char a[65], b[65], c[65], d[65];
    sgv_cache_key("GET", "http://h/p?b=2&a=1&apiKey=X", NULL, 0, a);
    sgv_cache_key("GET", "http://h/p?a=1&apiKey=Y&b=2", NULL, 0, b);
    sgv_cache_key("GET", "http://h/p?a=2&b=2", NULL, 0, c);
    sgv_cache_key("POST", "http://h/p?a=1&b=2", "{}", 2, d);
    TH_CHECK(!strcmp(a, b) && strcmp(a, c) && strcmp(a, d) && strlen(a) == 64);
    char e[65];
    sgv_sha256_hex("abc", 3, e); /* FIPS 180-2 test vector */
    TH_CHECK(!strcmp(e, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static void test_cache_entries_are_versioned_and_verified(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/cache", DIR_);
    struct sgv_cache *c;
    TH_CHECK(sgv_cache_open(dir, &c) == SG_OK);
    char key[65], *body;
    size_t len;
    sgv_cache_key("GET", "http://h/x", NULL, 0, key);
    TH_CHECK(sgv_cache_put(c, "src", "v1", key, "http://h/x?apiKey=SECRET", "hello", 5) == SG_OK);
    TH_CHECK(sgv_cache_get(c, "src", "v1", key, &body, &len) == 1 && len == 5 && !memcmp(body, "hello", 5));
    free(body);
    TH_CHECK(sgv_cache_get(c, "src", "v2", key, &body, &len) == 0); /* a new release misses */
    char meta[800], bodyp[800];
    snprintf(meta, sizeof meta, "%s/src/%s.meta.json", dir, key);
    snprintf(bodyp, sizeof bodyp, "%s/src/%s.body", dir, key);
    char *m = th_read(meta);
    TH_CHECK(m && !th_contains(m, "SECRET") && th_contains(m, "REDACTED") &&
             th_contains(m, "\"source_version\":\t\"v1\""));
    free(m);
    th_write(bodyp, "hellO"); /* same size, wrong bytes */
    TH_CHECK(sgv_cache_get(c, "src", "v1", key, &body, &len) == 0);
    sgv_cache_close(c);
}

static void test_fetch_caches_only_complete_parsed_answers(void) {
    struct sgv_online_opts oo = sgv_online_opts_default();
    char shared[600], user[600];
    snprintf(shared, sizeof shared, "%s/shared", DIR_);
    snprintf(user, sizeof user, "%s/user", DIR_);
    oo.cache_dir      = shared;
    oo.user_cache_dir = user;
    oo.http.max_tries = 2;
    oo.http.backoff_s = 0.01;
    oo.http.timeout_s = 3;
    struct sgv_online *net;
    TH_CHECK(sgv_online_new(&oo, &net) == SG_OK);
    struct sgv_endpoint ep = {.source = "t", .version = "1"};
    cJSON *j;
    struct sg_http_request rq = {.url = url("/always-500")};
    TH_CHECK(sgv_fetch_json(net, &ep, &rq, &j, NULL) == SG_ERR_NETWORK && j == NULL);
    rq.url = url("/json-bad");
    TH_CHECK(sgv_fetch_json(net, &ep, &rq, &j, NULL) == SG_ERR_FORMAT &&
             th_contains(sg_last_error(), "not valid JSON"));
    rq.url = url("/always-truncated");
    TH_CHECK(sgv_fetch_json(net, &ep, &rq, &j, NULL) == SG_ERR_NETWORK);
    TH_CHECKF(th_count_files(shared) == 0, "%d files cached from failed answers", th_count_files(shared));
    rq.url     = url("/json-ok");
    int before = th_server_count(&SRV, "/json-ok");
    TH_CHECK(sgv_fetch_json(net, &ep, &rq, &j, NULL) == SG_OK && cJSON_IsObject(j));
    cJSON_Delete(j);
    TH_CHECK(sgv_fetch_json(net, &ep, &rq, &j, NULL) == SG_OK && cJSON_IsObject(j) && net->cache_hits == 1);
    cJSON_Delete(j);
    TH_CHECK(th_server_count(&SRV, "/json-ok") - before == 1 && th_count_files(shared) == 2);
    /* licence-restricted sources go to the user cache only */
    struct sgv_endpoint rep = {.source = "omim", .version = "1", .restricted = 1};
    rq.url                  = url("/json-ok?apiKey=SECRET9");
    TH_CHECK(sgv_fetch_json(net, &rep, &rq, &j, NULL) == SG_OK);
    cJSON_Delete(j);
    TH_CHECK(th_count_files(shared) == 2 && th_count_files(user) == 2);
    TH_CHECK(!th_dir_contains(shared, "SECRET9") &&
             !th_dir_contains(user, "SECRET9")); /* the key is in neither cache */
    sgv_online_free(net);
}

static const char scenario[] =
    "{\"routes\": ["
    "{\"path\": \"/retry-after\", \"responses\": [{\"status\": 429, \"headers\": {\"Retry-After\": \"1\"}}, "
    "{\"status\": 200, \"body\": \"ok\"}]},"
    "{\"path\": \"/disgenet-limit\", \"responses\": [{\"status\": 429, \"headers\": "
    "{\"x-rate-limit-retry-after-seconds\": \"1\"}}, {\"status\": 200, \"body\": \"ok\"}]},"
    "{\"path\": \"/retry-forever\", \"responses\": [{\"status\": 503, \"headers\": {\"Retry-After\": \"3600\"}}]},"
    "{\"path\": \"/always-500\", \"responses\": [{\"status\": 500, \"body\": \"boom\"}]},"
    "{\"path\": \"/truncated\", \"responses\": [{\"status\": 200, \"body_file\": \"big.txt\", \"truncate\": 10}, "
    "{\"status\": 200, \"body_file\": \"big.txt\"}]},"
    "{\"path\": \"/always-truncated\", \"responses\": [{\"status\": 200, \"body_file\": \"big.txt\", \"truncate\": "
    "500}]},"
    "{\"path\": \"/slow\", \"responses\": [{\"status\": 200, \"body\": \"late\", \"delay\": 1.5}]},"
    "{\"path\": \"/slow-then-fast\", \"responses\": [{\"status\": 200, \"body\": \"late\", \"delay\": 1.5}, "
    "{\"status\": 200, \"body\": \"fast\"}]},"
    "{\"path\": \"/gzip\", \"responses\": [{\"status\": 200, \"body_file\": \"big.txt\", \"gzip\": true}]},"
    "{\"method\": \"POST\", \"path\": \"/post\", \"body_contains\": \"{\\\"x\\\":1}\", \"responses\": [{\"status\": "
    "200, \"body\": \"posted\"}]},"
    "{\"path\": \"/flaky-download\", \"responses\": [{\"status\": 200, \"body_file\": \"big.txt\", \"truncate\": 1000, "
    "\"ranges\": true}, {\"status\": 200, \"body_file\": \"big.txt\", \"ranges\": true}]},"
    "{\"path\": \"/norange-download\", \"responses\": [{\"status\": 200, \"body_file\": \"big.txt\"}]},"
    "{\"path\": \"/ok\", \"responses\": [{\"status\": 200, \"body\": \"ok\"}]},"
    "{\"path\": \"/json-ok\", \"responses\": [{\"status\": 200, \"body\": \"{\\\"a\\\": 1}\"}]},"
    "{\"path\": \"/json-bad\", \"responses\": [{\"status\": 200, \"body\": \"{\\\"a\\\": \"}]}"
    "], \"default\": {\"status\": 404, \"body\": \"nothing here\"}}";

int main(void) {
    DIR_ = th_tmpdir("http");
    char path[600];
    snprintf(path, sizeof path, "%s/big.txt", DIR_);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 2000; i++) fprintf(f, "line %04d\n", i % 10000);
    fclose(f);
    snprintf(path, sizeof path, "%s/scenario.json", DIR_);
    th_write(path, scenario);
    if (th_server_start(path, &SRV) != 0) return 1;
    TH_RUN(test_retry_after_is_honoured_then_succeeds);
    TH_RUN(test_server_errors_retry_then_name_url_and_status);
    TH_RUN(test_truncated_body_is_retried_not_returned);
    TH_RUN(test_timeouts_are_retried_then_reported);
    TH_RUN(test_gzip_bodies_are_decoded);
    TH_RUN(test_keys_never_reach_logs_or_errors);
    TH_RUN(test_post_sends_body_and_headers);
    TH_RUN(test_download_resumes_and_renames_only_when_complete);
    TH_RUN(test_rate_limit_spaces_requests_per_host);
    TH_RUN(test_cache_keys_sort_params_and_ignore_secrets);
    TH_RUN(test_cache_entries_are_versioned_and_verified);
    TH_RUN(test_fetch_caches_only_complete_parsed_answers);
    th_server_stop(&SRV);
    th_rmtree(DIR_);
    free(DIR_);
    return th_report();
}
