/* Status codes and the per-thread error message.
 *
 * Every public entry point returns an sg_status (or NULL) and, on failure, leaves one readable
 * line that names the file, field or option at fault:
 *
 *     sg_status st = sg_h5ad_open(path, &opts, &h);
 *     if (st != SG_OK) { fprintf(stderr, "saeg: %s\n", sg_last_error()); return 1; }
 *
 * Failing code records the message with sg_error(), which returns the code so that
 * `return sg_error(SG_ERR_FORMAT, "%s: bad header", path);` reads as one statement.
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_status {
    SG_OK = 0,
    SG_ERR_INVALID_ARG, /* a bad option, shape or argument */
    SG_ERR_IO,          /* a file could not be read or written */
    SG_ERR_FORMAT,      /* a file's contents are corrupt or not what we expect */
    SG_ERR_NOT_FOUND,   /* a named file, key, column or device does not exist */
    SG_ERR_UNSUPPORTED, /* valid, but not implemented here (e.g. an op on a backend) */
    SG_ERR_NO_MEMORY,   /* host or device allocation failed */
    SG_ERR_BACKEND,     /* a driver or device call failed */
    SG_ERR_NETWORK,     /* an HTTP request failed after its retries */
    SG_ERR_CANCELLED,   /* stopped by the user (signal) */
    SG_STATUS_COUNT
} sg_status;

/* Short stable name for a status, e.g. "invalid argument". */
const char *sg_status_str(sg_status status);

/* Records a formatted message as this thread's last error and returns `status`. */
sg_status sg_error(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes this thread's last error with "<prefix>: " (adds context while unwinding). */
sg_status sg_error_wrap(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last error message ("" when none). Valid until the next sg_error on this thread. */
const char *sg_last_error(void);

void sg_error_clear(void);

#if defined(__clang_analyzer__) && !defined(SG_STATUS_IMPL)
/* The static analyzer sees one file at a time (and never inlines variadic calls), so it cannot
 * know that sg_error returns its status and would follow `st = sg_error(...)` as if st could
 * still be SG_OK. Show it the contract; this is never compiled. */
int sg_error_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline sg_status sg_error_contract(sg_status status, int message) {
    (void)message;
    return status;
}
#define sg_error(status, ...)      sg_error_contract((status), sg_error_message(__VA_ARGS__))
#define sg_error_wrap(status, ...) sg_error_contract((status), sg_error_message(__VA_ARGS__))
#endif

#ifdef __cplusplus
}
#endif

#endif
