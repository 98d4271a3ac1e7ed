/* log.h — one level-checked logging macro with a component prefix, to stderr.
 *
 *   wp_log_init("agent 00001", WP_LOG_INFO);
 *   wp_log(WP_LOG_ERR, "outbox %s: %s", path, sqlite3_errmsg(db));
 *
 * The level is checked before the arguments are formatted. Under systemd (JOURNAL_STREAM
 * set) lines carry a "<N>" priority prefix and no timestamp, since journald adds both;
 * otherwise each line starts with a UTC timestamp.
 */
#ifndef WP_LOG_H
#define WP_LOG_H

enum wp_log_level {
    WP_LOG_ERR = 3,      /* values match syslog priorities */
    WP_LOG_WARNING = 4,
    WP_LOG_NOTICE = 5,
    WP_LOG_INFO = 6,
    WP_LOG_DEBUG = 7,
};

extern int wp_log_level;

/* component is copied; NULL keeps the previous one. */
void wp_log_init(const char *component, int level);

/* Parses "error", "warning", "notice", "info", "debug"; returns -1 if none matches. */
int wp_log_level_parse(const char *name);

void wp_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wp_log(level, ...)                                                             \
    do {                                                                               \
        if ((level) <= wp_log_level)                                                   \
            wp_log_write((level), __VA_ARGS__);                                        \
    } while (0)

#endif
