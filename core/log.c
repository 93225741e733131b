#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static sg_log_fn log_fn;
static void *log_user;
static int log_level           = -1; /* -1: not yet read from SAEG_LOG */
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static void log_read_env(void) {
    const char *env = getenv("SAEG_LOG");
    int level       = SG_LOG_INFO;
    if (env && *env) {
        static const struct {
            const char *name;
            int level;
        } names[] = {
            {"error", SG_LOG_ERROR}, {"warn", SG_LOG_WARN},   {"warning", SG_LOG_WARN},
            {"info", SG_LOG_INFO},   {"debug", SG_LOG_DEBUG},
        };
        int found = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcasecmp(env, names[i].name) == 0) {
                level = names[i].level;
                found = 1;
            }
        }
        if (!found && env[0] >= '0' && env[0] <= '3' && env[1] == '\0') {
            level = env[0] - '0';
            found = 1;
        }
        if (!found)
            fprintf(stderr, "saeg: warning: SAEG_LOG=%s is not one of error, warn, info, debug; using info\n", env);
    }
    if (log_level < 0) log_level = level;
}

static void log_init(void) { pthread_once(&log_once, log_read_env); }

void sg_log_set_callback(sg_log_fn fn, void *user) {
    log_fn   = fn;
    log_user = user;
}

void sg_log_set_level(enum sg_log_level level) {
    log_init();
    log_level = (int)level;
}

enum sg_log_level sg_log_get_level(void) {
    log_init();
    return (enum sg_log_level)log_level;
}

int sg_log_enabled(enum sg_log_level level) {
    log_init();
    return (int)level <= log_level;
}

void sg_log(enum sg_log_level level, const char *fmt, ...) {
    if (!sg_log_enabled(level)) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_fn) {
        log_fn(level, msg, log_user);
        return;
    }
    if (level == SG_LOG_INFO)
        fprintf(stderr, "saeg: %s\n", msg);
    else
        fprintf(stderr, "saeg: %s: %s\n", level_names[level], msg);
}
