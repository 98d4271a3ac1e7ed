/* fuzz_common.h — what every wardpulse libFuzzer harness shares.
 *
 * A harness calls a decoder exactly as a daemon does and then checks the decoder's own
 * contract (header comments); a broken contract is a crash (abort), like an ASan or UBSan
 * finding, so that tests/fuzz/run.sh keeps a reproducer for it.
 */
#ifndef WP_FUZZ_COMMON_H
#define WP_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Fails the run with a message naming the broken contract. */
#define FUZZ_CHECK(cond, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz contract broken at %s:%d: %s: ", __FILE__, __LINE__, \
                    #cond);                                                            \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* The daemons log every rejection; a fuzzer makes millions of them. */
static inline void fuzz_quiet_logs(void)
{
    wp_log_init("fuzz", 0);
}

/* True if err is a NUL-terminated string within its buffer (the size given to the callee). */
static inline int fuzz_terminated(const char *err, size_t size)
{
    return memchr(err, '\0', size) != NULL;
}

/* Where a harness puts its temporary files: $TMPDIR (run.sh points it at a directory of
 * its own, removed when it ends, so a crashed harness leaves nothing behind), else
 * /dev/shm (memory: SQLite and file writes stay cheap), else /tmp. */
static inline const char *fuzz_tmp_base(void)
{
    const char *env = getenv("TMPDIR");
    if (env && env[0])
        return env;
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* Removes a harness's SQLite file (with its -wal, -shm and -journal) and then its
 * temporary directory; dir empty: nothing was made. */
static inline void fuzz_remove_db_dir(const char *dir, const char *path)
{
    if (!dir[0])
        return;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

#endif
