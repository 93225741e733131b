#define SG_STATUS_IMPL /* defines sg_error: no analyzer stand-in here */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SG_ERROR_MSG_MAX 2048

static _Thread_local char last_error[SG_ERROR_MSG_MAX];

static const char *const status_names[SG_STATUS_COUNT] = {
    [SG_OK]              = "ok",
    [SG_ERR_INVALID_ARG] = "invalid argument",
    [SG_ERR_IO]          = "I/O error",
    [SG_ERR_FORMAT]      = "bad file format",
    [SG_ERR_NOT_FOUND]   = "not found",
    [SG_ERR_UNSUPPORTED] = "unsupported",
    [SG_ERR_NO_MEMORY]   = "out of memory",
    [SG_ERR_BACKEND]     = "backend error",
    [SG_ERR_NETWORK]     = "network error",
    [SG_ERR_CANCELLED]   = "cancelled",
};

const char *sg_status_str(sg_status status) {
    if ((unsigned)status >= SG_STATUS_COUNT) return "unknown status";
    return status_names[status];
}

sg_status sg_error(sg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

sg_status sg_error_wrap(sg_status status, const char *fmt, ...) {
    char old[SG_ERROR_MSG_MAX];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* append ": <previous message>" after the prefix, truncating the tail if it must */
    if (n >= 0 && (size_t)n < sizeof last_error - 3) {
        size_t used        = (size_t)n;
        const char *tail   = old[0] ? old : sg_status_str(status);
        last_error[used++] = ':';
        last_error[used++] = ' ';
        size_t room = sizeof last_error - used - 1, len = strlen(tail);
        if (len > room) len = room;
        memcpy(last_error + used, tail, len);
        last_error[used + len] = '\0';
    }
    return status;
}

const char *sg_last_error(void) { return last_error; }

void sg_error_clear(void) { last_error[0] = '\0'; }
