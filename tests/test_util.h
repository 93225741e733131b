/* Minimal checks for C tests: a failed check prints where and why, the test goes on, and the
 * program exits non-zero if anything failed. */
#ifndef SAEG_TEST_UTIL_H
#define SAEG_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                   \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#define CHECK_CLOSE(a, b, tol)                                                                                         \
    do {                                                                                                               \
        double a_ = (double)(a), b_ = (double)(b);                                                                     \
        if (!(fabs(a_ - b_) <= (tol) * (1.0 + fabs(b_)))) {                                                            \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n", __FILE__, __LINE__, #a, a_, #b, b_,     \
                    (double)(tol));                                                                                    \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                                               \
    do {                                                                                                               \
        const char *h_ = (haystack);                                                                                   \
        if (!h_ || !strstr(h_, (needle))) {                                                                            \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, h_ ? h_ : "(null)", (needle));  \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#define RUN_TEST(fn)                                                                                                   \
    do {                                                                                                               \
        int before_ = test_failures;                                                                                   \
        fn();                                                                                                          \
        printf("%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn);                                            \
    } while (0)

static inline int test_exit_code(void) {
    if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}

/* Deterministic uniform floats in [lo, hi). */
static inline float test_rand(unsigned *state, float lo, float hi) {
    *state = *state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((*state >> 8) * (1.0 / 16777216.0));
}

#endif
