/* One logging path for the whole program.
 *
 *     SG_LOGI("device: %s", name);          // info
 *     SG_LOGD("node %s falls back to cpu", node->name);
 *
 * The level comes from the SAEG_LOG environment variable (error, warn, info, debug; default info),
 * or from sg_log_set_level(). sg_log_set_callback() routes messages elsewhere (a library user's
 * logger, a test that captures output); the default writes "saeg: <level>: msg" to stderr.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum sg_log_level {
    SG_LOG_ERROR = 0,
    SG_LOG_WARN  = 1,
    SG_LOG_INFO  = 2,
    SG_LOG_DEBUG = 3,
};

typedef void (*sg_log_fn)(enum sg_log_level level, const char *msg, void *user);

void sg_log_set_callback(sg_log_fn fn, void *user); /* NULL restores the stderr default */
void sg_log_set_level(enum sg_log_level level);
enum sg_log_level sg_log_get_level(void);
int sg_log_enabled(enum sg_log_level level);

void sg_log(enum sg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SG_LOGE(...) sg_log(SG_LOG_ERROR, __VA_ARGS__)
#define SG_LOGW(...) sg_log(SG_LOG_WARN, __VA_ARGS__)
#define SG_LOGI(...) sg_log(SG_LOG_INFO, __VA_ARGS__)
#define SG_LOGD(...)                                                                                                   \
    do {                                                                                                               \
        if (sg_log_enabled(SG_LOG_DEBUG)) sg_log(SG_LOG_DEBUG, __VA_ARGS__);                                           \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
