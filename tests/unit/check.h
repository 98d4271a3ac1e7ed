/* check.h — the assertion macros of the unit tests.
 *
 *   CHECK(expr)            fails (and goes on) when expr is false
 *   CHECK_STR(a, b)        fails when the strings differ (either may be NULL)
 *   CHECK_CONTAINS(s, sub) fails when sub is not within s
 *   return CHECK_DONE();   prints "N passed, N failed" and gives the exit status
 */
#ifndef WP_TEST_CHECK_H
#define WP_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if (expr) {                                                                    \
            check_passed++;                                                            \
        } else {                                                                       \
            check_failed++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);   \
        }                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *check_a_ = (a), *check_b_ = (b);                                   \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {                 \
            check_passed++;                                                            \
        } else {                                                                       \
            check_failed++;                                                            \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s\n  got:      %s\n"      \
                    "  expected: %s\n", __FILE__, __LINE__, #a, #b,                    \
                    check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");   \
        }                                                                              \
    } while (0)

#define CHECK_CONTAINS(s, sub)                                                         \
    do {                                                                               \
        const char *check_s_ = (s), *check_sub_ = (sub);                               \
        if (check_s_ && strstr(check_s_, check_sub_)) {                                \
            check_passed++;                                                            \
        } else {                                                                       \
            check_failed++;                                                            \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" not in \"%s\"\n",    \
                    __FILE__, __LINE__, check_sub_, check_s_ ? check_s_ : "(null)");   \
        }                                                                              \
    } while (0)

#define CHECK_DONE()                                                                   \
    (printf("%d passed, %d failed\n", check_passed, check_failed), check_failed ? 1 : 0)

#endif
