/* A small HTTP client over libcurl, shared by every layer that talks to the network.
 *
 *     struct sg_http_opts o = sg_http_opts_default();
 *     o.user_agent = "saeg/0.1 (validation; https://example.org/contact)";
 *     struct sg_http *h;
 *     if (sg_http_new(&o, &h) != SG_OK) return 1;
 *     sg_http_set_rate(h, "rest.kegg.jp", 3.0);            // at most 3 requests/s to that host
 *
 *     struct sg_http_response r;
 *     sg_status st = sg_http_get(h, "https://rest.kegg.jp/list/pathway/hsa", NULL, &r);
 *     if (st != SG_OK) fprintf(stderr, "%s\n", sg_last_error());   // names the URL and status
 *     else use(r.body, r.len);
 *     sg_http_response_free(&r);
 *
 *     sg_http_download(h, url, NULL, "data/hp.obo", on_progress, NULL);  // resumes hp.obo.part
 *     sg_http_free(h);
 *
 * Requests are retried on 429/500/502/503/504 and on transport errors (timeouts, truncated
 * bodies, resets) with exponential backoff plus jitter; Retry-After and DisGeNET's
 * x-rate-limit-retry-after-seconds are honoured. Query parameters and headers that carry keys
 * are redacted from every log line and error message. A client is not thread-safe: use one
 * per thread.
 */
#ifndef SG_IO_HTTP_H
#define SG_IO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_http;

struct sg_http_opts {
    const char *user_agent;     /* sent on every request; name the tool and a contact */
    double connect_timeout_s;   /* TCP + TLS connect, per try */
    double timeout_s;           /* whole transfer, per try (downloads: 0 = no limit) */
    double low_speed_timeout_s; /* downloads: abort a try that moves < 1 byte/s this long */
    int max_tries;              /* total attempts, first included */
    double backoff_s;           /* delay before the 2nd try; doubles each time, plus jitter */
    double backoff_max_s;       /* cap on one backoff delay */
    double retry_after_max_s;   /* a server asking for a longer wait fails the request now */
    uint64_t seed;              /* jitter; fixed seeds make tests reproducible */
};

struct sg_http_opts sg_http_opts_default(void);

struct sg_http_request {
    const char *method; /* "GET" (when NULL) or "POST" */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* POST body (not copied) */
    size_t body_len;
    long accept_status; /* one non-2xx status treated as an answer (e.g. 404), or 0 */
};

struct sg_http_response {
    long status; /* final HTTP status, 0 when no response arrived */
    char *body;  /* NUL-terminated; decoded when the server used gzip */
    size_t len;
    int tries; /* attempts made */
};

sg_status sg_http_new(const struct sg_http_opts *opts, struct sg_http **out);
void sg_http_free(struct sg_http *h);

/* Spaces requests to `host` at least 1/per_s seconds apart (per client). */
sg_status sg_http_set_rate(struct sg_http *h, const char *host, double per_s);

/* Performs the request with retries. SG_OK only for a complete 2xx (or accept_status)
 * response; otherwise SG_ERR_NETWORK with a message naming the method, the redacted URL and
 * the last HTTP status or transport error. `out` is always initialised; free it either way. */
sg_status sg_http_request(struct sg_http *h, const struct sg_http_request *req, struct sg_http_response *out);
sg_status sg_http_get(struct sg_http *h, const char *url, const char *const *headers, struct sg_http_response *out);
void sg_http_response_free(struct sg_http_response *r);

/* Return non-zero to cancel the download (it then fails with SG_ERR_CANCELLED). `total` is
 * -1 while unknown. Both counts include bytes resumed from an earlier partial file. */
typedef int (*sg_http_progress_fn)(int64_t done, int64_t total, void *user);

/* Downloads `url` to `path` through `path.part`: an existing .part is resumed with a Range
 * request (restarted when the server ignores the range), and only a complete transfer is
 * renamed into place. A failed download leaves the .part for the next attempt. */
sg_status sg_http_download(struct sg_http *h, const char *url, const char *const *headers, const char *path,
                           sg_http_progress_fn progress, void *user);

/* Copies `url` into buf with the values of key-like query parameters (key, apikey, api_key,
 * token, secret, password, ...) replaced by "REDACTED". Always NUL-terminates. */
void sg_http_redact_url(const char *url, char *buf, size_t cap);

/* Whether a query parameter of this name carries a secret (the test the redaction uses). */
int sg_http_param_is_secret(const char *name, size_t len);

/* Sockets opened by every client in this process since start: lets tests prove that an
 * offline run never touched the network. */
uint64_t sg_http_sockets_opened(void);

#ifdef __cplusplus
}
#endif

#endif
