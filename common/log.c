#include "log.h"

#include "calendar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int wp_log_level = WP_LOG_INFO;
static char component[64] = "wardpulse";

void wp_log_init(const char *name, int level)
{
    if (name)
        snprintf(component, sizeof component, "%s", name);
    wp_log_level = level;
}

int wp_log_level_parse(const char *name)
{
    static const struct { const char *name; int level; } levels[] = {
        {"error", WP_LOG_ERR}, {"warning", WP_LOG_WARNING}, {"notice", WP_LOG_NOTICE},
        {"info", WP_LOG_INFO}, {"debug", WP_LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(levels[i].name, name) == 0)
            return levels[i].level;
    return -1;
}

static const char *level_name(int level)
{
    switch (level) {
    case WP_LOG_ERR: return "error";
    case WP_LOG_WARNING: return "warning";
    case WP_LOG_NOTICE: return "notice";
    case WP_LOG_INFO: return "info";
    default: return "debug";
    }
}

void wp_log_write(int level, const char *fmt, ...)
{
    /* The whole line is formatted here and written at once: lines of concurrent processes
     * do not interleave, and stdio's unbuffered stderr does not lend fprintf an 8 KB
     * buffer on the stack (the deepest the agent's stack ever goes otherwise). */
    char line[2048 + 128];
    int head;
    if (getenv("JOURNAL_STREAM")) {
        head = snprintf(line, sizeof line, "<%d>%s: ", level, component);
    } else {
        /* UTC from the project's calendar: glibc's gmtime_r would read the time zone
         * database first (a file, its heap and its code), for a stamp that needs none. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int64_t day = wp_floor_div(ms, WP_MS_PER_DAY), year;
        int month, dom;
        wp_day_to_ymd(day, &year, &month, &dom);
        int64_t of_day = ms - day * WP_MS_PER_DAY;
        head = snprintf(line, sizeof line, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ",
                        (long long)year, month, dom, (int)(of_day / 3600000),
                        (int)(of_day / 60000 % 60), (int)(of_day / 1000 % 60),
                        (int)(of_day % 1000), component, level_name(level));
    }
    size_t len = head > 0 && (size_t)head < sizeof line - 1 ? (size_t)head : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + len, sizeof line - 1 - len, fmt, ap);
    va_end(ap);
    if (n > 0)
        len += (size_t)n < sizeof line - 1 - len ? (size_t)n : sizeof line - 2 - len;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
