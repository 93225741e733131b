/* Shared helpers for the validation tests: checks that report and count failures, a temporary
 * folder, the fixture gene table, and the local replay HTTP server (replay_server.py).
 *
 *     struct th_server srv;
 *     if (th_server_start("tests/validation/fixtures/online/hpo.json", &srv) != 0) return 1;
 *     ... point a client at http://127.0.0.1:<srv.port> ...
 *     TH_CHECK(th_server_count(&srv, "/api/network/annotation/NCBIGene%3A6323") == 2);
 *     th_server_stop(&srv);
 *     return th_report();
 */
#ifndef SGV_TEST_HARNESS_H
#define SGV_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "validation/geneid.h"
#include "validation/library.h"

#define FIX "tests/validation/fixtures"

extern int th_failures;

#define TH_CHECK(cond)       th_check((cond) != 0, __FILE__, __LINE__, #cond, NULL)
#define TH_CHECKF(cond, ...) th_check_fmt((cond) != 0, __FILE__, __LINE__, #cond, __VA_ARGS__)
void th_check(int ok, const char *file, int line, const char *what, const char *detail);
void th_check_fmt(int ok, const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int th_report(void); /* 0 when every check passed, else 1 */
#define TH_RUN(fn)                                                                                                     \
    do {                                                                                                               \
        fprintf(stderr, "-- %s\n", #fn);                                                                               \
        fn();                                                                                                          \
    } while (0)

/* A fresh folder under $TMPDIR (or /tmp); removed by th_rmtree. */
char *th_tmpdir(const char *tag);
void th_rmtree(const char *path);
int th_write(const char *path, const char *text);
char *th_read(const char *path); /* whole file, or NULL */
int th_contains(const char *haystack, const char *needle);
int th_count_files(const char *dir);                    /* regular files below dir (0 when absent) */
int th_dir_contains(const char *dir, const char *text); /* some file below dir holds text */

struct sgv_genes *th_genes(void); /* fixtures/hgnc_complete_set.txt, aborting the test on failure */

/* Whether a library term holds exactly these gene symbols (NULL-terminated). */
int th_term_is(const struct sgv_library *lib, const struct sgv_genes *g, const char *term, const char *const *symbols);
int th_term_has(const struct sgv_library *lib, const struct sgv_genes *g, const char *term, const char *symbol);

struct th_server {
    pid_t pid;
    int port;
    int stdin_fd; /* write end of the server's stdin: closing it (or dying) stops the server */
    char state[512];
};
int th_server_start(const char *scenario, struct th_server *s);
void th_server_stop(struct th_server *s);
int th_server_connections(const struct th_server *s);
/* Requests whose path equals `path` (NULL: all requests). */
int th_server_count(const struct th_server *s, const char *path);
/* Text of the n-th request (JSON) as the server logged it, or NULL; caller frees. */
char *th_server_state(const struct th_server *s);

/* Substitutes every "{PORT}" in a text (configs for the online tests). Caller frees. */
char *th_subst_port(const char *text, int port);

#endif
