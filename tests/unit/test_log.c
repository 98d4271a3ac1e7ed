/* test_log — the log line (common/log.c): one line per call, stamped, or with a syslog
 * priority under systemd (JOURNAL_STREAM); an overlong message is cut, never the newline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "timefmt.h"

/* What one call wrote to stderr, read back from a temporary file put in its place. */
static char *logged(int level, const char *message)
{
    static char out[8192];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    wp_log(level, "%s", message);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

int main(void)
{
    wp_log_init("agent 00001", WP_LOG_INFO);

    unsetenv("JOURNAL_STREAM");
    const char *line = logged(WP_LOG_WARNING, "outbox full");
    CHECK(strlen(line) == strlen("2026-12-07T15:20:00.123Z agent 00001 warning: outbox full\n"));
    CHECK(line[4] == '-' && line[10] == 'T' && line[19] == '.' && line[23] == 'Z');
    CHECK_STR(line + 24, " agent 00001 warning: outbox full\n");
    /* the stamp is the time of the call, in UTC */
    char stamp[32];
    memcpy(stamp, line, 24);
    stamp[24] = '\0';
    int64_t stamped = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    CHECK(wp_datetime_parse(stamp, &stamped));
    CHECK(stamped <= now_ms && stamped > now_ms - 2000);
    CHECK_STR(logged(WP_LOG_DEBUG, "below the level"), "");

    setenv("JOURNAL_STREAM", "8:1234", 1);
    CHECK_STR(logged(WP_LOG_ERR, "cannot open"), "<3>agent 00001: cannot open\n");

    char longer[5000];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    line = logged(WP_LOG_NOTICE, longer);
    size_t len = strlen(line);
    CHECK(len > 2000 && len < sizeof longer);
    CHECK(line[len - 1] == '\n' && line[len - 2] == 'x' && !strchr(line, '\n')[1]);
    return CHECK_DONE();
}
