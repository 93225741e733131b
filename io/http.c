#include "io/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define HTTP_URL_LOG_MAX 1024
#define HTTP_MAX_HOSTS   64

struct http_host_rate {
    char host[256];
    double interval_s; /* 1 / requests per second */
    double next_s;     /* monotonic time of the next allowed request */
};

struct sg_http {
    CURL *curl;
    struct sg_http_opts opts;
    char *user_agent;
    uint64_t rng;
    struct http_host_rate hosts[HTTP_MAX_HOSTS];
    int n_hosts;
};

/* One try's outcome, gathered by the curl callbacks. */
struct http_try {
    char *buf;
    size_t len, cap;
    double retry_after_s; /* < 0 when the server sent none */
    /* downloads only */
    FILE *file;
    int64_t offset;   /* bytes already in the .part file when this try started */
    int file_started; /* the first body byte decided append vs. restart */
    int file_error;
    sg_http_progress_fn progress;
    void *progress_user;
    CURL *curl;
};

static atomic_uint_fast64_t sockets_opened;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void http_global_init(void) { curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT); }

uint64_t sg_http_sockets_opened(void) { return atomic_load(&sockets_opened); }

struct sg_http_opts sg_http_opts_default(void) {
    return (struct sg_http_opts){
        .user_agent          = "saeg",
        .connect_timeout_s   = 15.0,
        .timeout_s           = 120.0,
        .low_speed_timeout_s = 60.0,
        .max_tries           = 5,
        .backoff_s           = 1.0,
        .backoff_max_s       = 30.0,
        .retry_after_max_s   = 300.0,
        .seed                = 0x5ae6u,
    };
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* splitmix64: jitter only needs to decorrelate clients, not be cryptographic */
static double http_rand01(struct sg_http *h) {
    uint64_t z = (h->rng += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

int sg_http_param_is_secret(const char *name, size_t len) {
    static const char *const parts[] = {"key", "token", "secret", "passw", "signature", "credential"};
    static const char *const exact[] = {"auth", "authorization", "sig"};
    char low[64];
    if (len >= sizeof low) len = sizeof low - 1;
    for (size_t i = 0; i < len; i++) low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(low, parts[i])) return 1;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(low, exact[i]) == 0) return 1;
    return 0;
}

void sg_http_redact_url(const char *url, char *buf, size_t cap) {
    if (!cap) return;
    size_t o         = 0;
    const char *q    = url ? strchr(url, '?') : NULL;
    const char *p    = url ? url : "";
    const char *end  = p + strlen(p);
    const char *frag = strchr(p, '#');
    if (frag) end = frag;
    /* the part before '?' is copied as is */
    const char *stop = q ? q + 1 : end;
    for (; p < stop && o + 1 < cap; p++) buf[o++] = *p;
    while (q && p < end && o + 1 < cap) {
        const char *amp      = memchr(p, '&', (size_t)(end - p));
        const char *pe       = amp ? amp : end;
        const char *eq       = memchr(p, '=', (size_t)(pe - p));
        size_t name_len      = (size_t)((eq ? eq : pe) - p);
        int redact           = eq && sg_http_param_is_secret(p, name_len);
        const char *copy_end = redact ? eq + 1 : pe;
        for (; p < copy_end && o + 1 < cap; p++) buf[o++] = *p;
        if (redact) {
            const char *r = "REDACTED";
            for (; *r && o + 1 < cap; r++) buf[o++] = *r;
        }
        if (amp && o + 1 < cap) {
            buf[o++] = '&';
            p        = amp + 1;
        } else
            break;
    }
    buf[o] = '\0';
}

static curl_socket_t http_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a) {
    (void)user;
    (void)purpose;
    curl_socket_t s = socket(a->family, a->socktype, a->protocol);
    if (s != CURL_SOCKET_BAD) atomic_fetch_add(&sockets_opened, 1);
    return s;
}

sg_status sg_http_new(const struct sg_http_opts *opts, struct sg_http **out) {
    *out = NULL;
    pthread_once(&curl_once, http_global_init);
    if (curl_init_code != CURLE_OK)
        return sg_error(SG_ERR_NETWORK, "libcurl: global init failed: %s", curl_easy_strerror(curl_init_code));
    struct sg_http *h = calloc(1, sizeof *h);
    if (!h) return sg_error(SG_ERR_NO_MEMORY, "http: out of memory");
    h->opts = opts ? *opts : sg_http_opts_default();
    if (h->opts.max_tries < 1) h->opts.max_tries = 1;
    h->user_agent      = strdup(h->opts.user_agent ? h->opts.user_agent : "saeg");
    h->opts.user_agent = h->user_agent;
    h->rng             = h->opts.seed;
    h->curl            = curl_easy_init();
    if (!h->curl || !h->user_agent) {
        sg_http_free(h);
        return sg_error(SG_ERR_NO_MEMORY, "libcurl: could not create a handle");
    }
    *out = h;
    return SG_OK;
}

void sg_http_free(struct sg_http *h) {
    if (!h) return;
    if (h->curl) curl_easy_cleanup(h->curl);
    free(h->user_agent);
    free(h);
}

static int url_host(const char *url, char *host, size_t cap) {
    CURLU *u = curl_url();
    char *hs = NULL;
    int ok   = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &hs, 0) == CURLUE_OK;
    if (ok) snprintf(host, cap, "%s", hs);
    curl_free(hs);
    curl_url_cleanup(u);
    return ok;
}

sg_status sg_http_set_rate(struct sg_http *h, const char *host, double per_s) {
    if (!host || !*host || per_s <= 0)
        return sg_error(SG_ERR_INVALID_ARG, "http: rate for host '%s' must be > 0 requests/s", host ? host : "");
    for (int i = 0; i < h->n_hosts; i++) {
        if (strcasecmp(h->hosts[i].host, host) == 0) {
            h->hosts[i].interval_s = 1.0 / per_s;
            return SG_OK;
        }
    }
    if (h->n_hosts == HTTP_MAX_HOSTS)
        return sg_error(SG_ERR_INVALID_ARG, "http: more than %d rate-limited hosts", HTTP_MAX_HOSTS);
    struct http_host_rate *r = &h->hosts[h->n_hosts++];
    snprintf(r->host, sizeof r->host, "%s", host);
    r->interval_s = 1.0 / per_s;
    r->next_s     = 0;
    return SG_OK;
}

/* Waits for the host's next slot, then books the one after it. */
static void http_rate_wait(struct sg_http *h, const char *url) {
    char host[256];
    if (!h->n_hosts || !url_host(url, host, sizeof host)) return;
    for (int i = 0; i < h->n_hosts; i++) {
        struct http_host_rate *r = &h->hosts[i];
        if (strcasecmp(r->host, host) != 0) continue;
        double t = now_s();
        if (r->next_s > t) sleep_s(r->next_s - t);
        t         = now_s();
        r->next_s = (r->next_s > t ? r->next_s : t) + r->interval_s;
        return;
    }
}

static size_t http_on_header(char *data, size_t size, size_t n, void *user) {
    struct http_try *t               = user;
    size_t len                       = size * n;
    static const char *const names[] = {"retry-after:", "x-rate-limit-retry-after-seconds:"};
    for (size_t i = 0; i < 2; i++) {
        size_t nl = strlen(names[i]);
        if (len <= nl || strncasecmp(data, names[i], nl) != 0) continue;
        char value[128];
        size_t vl = len - nl < sizeof value - 1 ? len - nl : sizeof value - 1;
        memcpy(value, data + nl, vl);
        value[vl] = '\0';
        char *v   = value;
        while (*v == ' ' || *v == '\t') v++;
        for (char *e = v + strlen(v); e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '); e--) e[-1] = '\0';
        char *end;
        double secs = strtod(v, &end);
        if (end == v) { /* an HTTP-date */
            time_t when = curl_getdate(v, NULL);
            secs        = when > 0 ? difftime(when, time(NULL)) : -1;
            if (when > 0 && secs < 0) secs = 0;
        }
        if (secs >= 0 && secs > t->retry_after_s) t->retry_after_s = secs;
    }
    return len;
}

static size_t http_on_body(char *data, size_t size, size_t n, void *user) {
    struct http_try *t = user;
    size_t len         = size * n;
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 16384;
        while (cap < t->len + len + 1) cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) return 0; /* curl reports a write error */
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, len);
    t->len += len;
    t->buf[t->len] = '\0';
    return len;
}

static int http_retryable_status(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static int http_retryable_curl(CURLcode c) {
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP3: return 1;
    default: return 0;
    }
}

static void http_set_common(struct sg_http *h, const char *url, struct curl_slist *hdrs, struct http_try *t) {
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->opts.connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, http_open_socket);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    if (hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
}

static sg_status http_build_headers(const char *const *headers, struct curl_slist **out) {
    *out = NULL;
    for (const char *const *p = headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(*out, *p);
        if (!n) {
            curl_slist_free_all(*out);
            *out = NULL;
            return sg_error(SG_ERR_NO_MEMORY, "http: out of memory");
        }
        *out = n;
    }
    return SG_OK;
}

/* Delay before the next try: the server's Retry-After when given, else backoff with jitter. */
static double http_backoff(struct sg_http *h, int attempt, double retry_after_s) {
    if (retry_after_s >= 0) return retry_after_s;
    double d = h->opts.backoff_s * pow(2.0, attempt - 1);
    if (d > h->opts.backoff_max_s) d = h->opts.backoff_max_s;
    return d * (0.75 + 0.5 * http_rand01(h));
}

/* After a failed try: SG_OK once the backoff has been slept and another try should follow,
 * else the final error naming the request (and, for downloads, where partial data stays). */
static sg_status http_after_failure(struct sg_http *h, const char *method, const char *shown, CURLcode cc, long status,
                                    int attempt, double retry_after_s, const char *kept) {
    char last[256];
    int retry;
    if (cc != CURLE_OK) {
        snprintf(last, sizeof last, "%s (curl error %d)", curl_easy_strerror(cc), (int)cc);
        retry = http_retryable_curl(cc);
    } else {
        snprintf(last, sizeof last, "HTTP %ld", status);
        retry = http_retryable_status(status);
    }
    if (!retry) return sg_error(SG_ERR_NETWORK, "%s %s: %s", method, shown, last);
    if (attempt >= h->opts.max_tries)
        return sg_error(SG_ERR_NETWORK, "%s %s: %s after %d tries%s%s%s", method, shown, last, attempt,
                        kept ? " (partial data kept in " : "", kept ? kept : "", kept ? ")" : "");
    if (retry_after_s > h->opts.retry_after_max_s)
        return sg_error(SG_ERR_NETWORK, "%s %s: %s; server asks to wait %.0f s (limit %.0f s)", method, shown, last,
                        retry_after_s, h->opts.retry_after_max_s);
    double d = http_backoff(h, attempt, retry_after_s);
    SG_LOGW("http: %s %s: %s; retrying in %.1f s (try %d/%d)", method, shown, last, d, attempt + 1, h->opts.max_tries);
    sleep_s(d);
    return SG_OK;
}

void sg_http_response_free(struct sg_http_response *r) {
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

sg_status sg_http_request(struct sg_http *h, const struct sg_http_request *req, struct sg_http_response *out) {
    memset(out, 0, sizeof *out);
    const char *method = req->method ? req->method : "GET";
    int is_post        = strcmp(method, "POST") == 0;
    if (!is_post && strcmp(method, "GET") != 0)
        return sg_error(SG_ERR_INVALID_ARG, "http: unsupported method '%s'", method);
    char shown[HTTP_URL_LOG_MAX];
    sg_http_redact_url(req->url, shown, sizeof shown);
    struct curl_slist *hdrs;
    if (http_build_headers(req->headers, &hdrs) != SG_OK) return SG_ERR_NO_MEMORY;
    sg_status st = SG_ERR_NETWORK;
    for (int attempt = 1; attempt <= h->opts.max_tries; attempt++) {
        struct http_try t = {.retry_after_s = -1};
        http_set_common(h, req->url, hdrs, &t);
        curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)(h->opts.timeout_s * 1000));
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_on_body);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &t);
        if (is_post) {
            curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
            curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
        http_rate_wait(h, req->url);
        double t0   = now_s();
        CURLcode cc = curl_easy_perform(h->curl);
        long status = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        out->tries  = attempt;
        out->status = status;
        SG_LOGD("http: %s %s -> %ld%s%s (%zu bytes, %.2f s, try %d/%d)", method, shown, status,
                cc != CURLE_OK ? ", " : "", cc != CURLE_OK ? curl_easy_strerror(cc) : "", t.len, now_s() - t0, attempt,
                h->opts.max_tries);
        if (cc == CURLE_OK &&
            ((status >= 200 && status < 300) || (req->accept_status && status == req->accept_status))) {
            out->body = t.buf ? t.buf : calloc(1, 1);
            out->len  = t.len;
            st        = out->body ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "http: out of memory");
            break;
        }
        free(t.buf);
        st = http_after_failure(h, method, shown, cc, status, attempt, t.retry_after_s, NULL);
        if (st != SG_OK) break;
        st = SG_ERR_NETWORK;
    }
    curl_slist_free_all(hdrs);
    return st;
}

sg_status sg_http_get(struct sg_http *h, const char *url, const char *const *headers, struct sg_http_response *out) {
    struct sg_http_request r = {.method = "GET", .url = url, .headers = headers};
    return sg_http_request(h, &r, out);
}

/* Download body sink: the first byte of a 2xx answer decides between append (206) and restart
 * (200: the server ignored our Range); other statuses go to memory for the error message. */
static size_t http_on_file(char *data, size_t size, size_t n, void *user) {
    struct http_try *t = user;
    size_t len         = size * n;
    long status        = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
        if (t->len < 4096) http_on_body(data, size, n < 4096 ? n : 4096, user);
        return len;
    }
    if (!t->file_started) {
        t->file_started = 1;
        if (status != 206 && t->offset > 0) {
            if (fflush(t->file) != 0 || ftruncate(fileno(t->file), 0) != 0 || fseek(t->file, 0, SEEK_SET) != 0) {
                t->file_error = errno;
                return 0;
            }
            t->offset = 0;
        }
    }
    if (fwrite(data, 1, len, t->file) != len) {
        t->file_error = errno;
        return 0;
    }
    return len;
}

static int http_on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    struct http_try *t = user;
    if (!t->progress) return 0;
    int64_t total = dltotal > 0 ? t->offset + (int64_t)dltotal : -1;
    return t->progress(t->offset + (int64_t)dlnow, total, t->progress_user);
}

static int64_t file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

sg_status sg_http_download(struct sg_http *h, const char *url, const char *const *headers, const char *path,
                           sg_http_progress_fn progress, void *user) {
    char shown[HTTP_URL_LOG_MAX];
    sg_http_redact_url(url, shown, sizeof shown);
    size_t plen = strlen(path);
    char *part  = malloc(plen + 6);
    if (!part) return sg_error(SG_ERR_NO_MEMORY, "http: out of memory");
    memcpy(part, path, plen);
    memcpy(part + plen, ".part", 6);
    struct curl_slist *hdrs;
    if (http_build_headers(headers, &hdrs) != SG_OK) {
        free(part);
        return SG_ERR_NO_MEMORY;
    }

    sg_status st  = SG_ERR_NETWORK;
    int restarted = 0;
    for (int attempt = 1; attempt <= h->opts.max_tries; attempt++) {
        int64_t have = file_size(part);
        FILE *f      = fopen(part, have > 0 ? "r+b" : "wb");
        if (!f) {
            st = sg_error(SG_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
            break;
        }
        if (have > 0) fseek(f, 0, SEEK_END);
        struct http_try t = {.retry_after_s = -1,
                             .file          = f,
                             .offset        = have > 0 ? have : 0,
                             .progress      = progress,
                             .progress_user = user,
                             .curl          = h->curl};
        http_set_common(h, url, hdrs, &t);
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_on_file);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, http_on_progress);
        curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &t);
        if (h->opts.low_speed_timeout_s > 0) {
            curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, (long)ceil(h->opts.low_speed_timeout_s));
        }
        char range[32];
        if (t.offset > 0) { /* a plain Range header: a 200 reply then restarts in http_on_file */
            snprintf(range, sizeof range, "%lld-", (long long)t.offset);
            curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
        }
        http_rate_wait(h, url);
        CURLcode cc = curl_easy_perform(h->curl);
        long status = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        int close_err = fclose(f) != 0 ? errno : 0;
        SG_LOGD("http: GET %s -> %s (%ld, resumed at %lld, try %d/%d)", shown, curl_easy_strerror(cc), status,
                (long long)have, attempt, h->opts.max_tries);
        free(t.buf);
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
            st = sg_error(SG_ERR_CANCELLED, "GET %s: download cancelled", shown);
            break;
        }
        if (t.file_error || close_err || cc == CURLE_WRITE_ERROR) {
            st = sg_error(SG_ERR_IO, "%s: write failed: %s", part,
                          strerror(t.file_error ? t.file_error
                                   : close_err  ? close_err
                                                : EIO));
            break;
        }
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            if (rename(part, path) != 0) {
                st = sg_error(SG_ERR_IO, "%s: cannot rename to %s: %s", part, path, strerror(errno));
                break;
            }
            st = SG_OK;
            break;
        }
        if (cc == CURLE_OK && status == 416 && !restarted) {
            /* our .part is not a prefix the server recognises: start over once */
            restarted = 1;
            unlink(part);
            attempt--;
            continue;
        }
        st = http_after_failure(h, "GET", shown, cc, status, attempt, t.retry_after_s, part);
        if (st != SG_OK) break;
        st = SG_ERR_NETWORK;
    }
    if (st != SG_OK && file_size(part) == 0) unlink(part); /* nothing worth resuming */
    curl_slist_free_all(hdrs);
    free(part);
    return st;
}
