/* daemon_config.h — the settings both daemons share: where the broker is and how to log
 * in to it (TLS, credentials), the log level, and the simulated clock.
 *
 * Each daemon's config struct embeds a struct wp_daemon_config and puts the shared
 * entries into its own option table (config.h) with two macros, so that the names,
 * defaults, bounds and --help texts are written once:
 *
 *   const struct wp_config_option agent_config_options[] = {
 *       {"ward", ...},
 *       WP_DAEMON_BROKER_OPTIONS(struct agent_config, daemon),
 *       ...the daemon's own entries...
 *       WP_DAEMON_COMMON_OPTIONS(struct agent_config, daemon),
 *       {NULL, ...},
 *   };
 *
 * After wp_config_load(), wp_daemon_config_check() checks what the table cannot (a known
 * log level, certfile and keyfile together and only with cafile, RFC 3339 clock instants,
 * clock_stop after clock_start) and derives the values below; the daemon then calls
 * wp_daemon_config_apply_clock() before anything reads the time.
 */
#ifndef WP_DAEMON_CONFIG_H
#define WP_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct wp_daemon_config {
    char *broker_host;
    long long broker_port;
    char *log_level;
    int log_level_value;      /* derived: WP_LOG_* of log_level */
    char *cafile;             /* set: TLS on */
    char *certfile;           /* with keyfile: TLS client authentication */
    char *keyfile;
    char *username;
    char *password_file;      /* first line: the MQTT password */
    char *clock_start;        /* RFC 3339, or NULL: the clock starts at the real now */
    long long clock_rate;     /* simulated seconds per real second; 1 = real time */
    char *clock_anchor;       /* RFC 3339: the real instant the clock showed clock_start */
    char *clock_stop;         /* RFC 3339: the simulated clock holds there; NULL: runs on */
    int64_t clock_start_ms;   /* derived: clock_start as Unix ms, or WP_CLOCK_START_NOW */
    int64_t clock_anchor_ms;  /* derived; 0 when clock_anchor is unset */
    int64_t clock_stop_ms;    /* derived; 0 when clock_stop is unset */
};

#define WP_DAEMON_OPT_(type, member, field) offsetof(type, member.field)

/* broker_host, broker_port. */
#define WP_DAEMON_BROKER_OPTIONS(type, member)                                               \
    {"broker_host", WP_CONFIG_STRING, "localhost", 0, 0,                                     \
     WP_DAEMON_OPT_(type, member, broker_host), 0, "MQTT broker host name or address"},      \
    {"broker_port", WP_CONFIG_INT, "1883", 1, 65535, WP_DAEMON_OPT_(type, member, broker_port), \
     0, "MQTT broker port (8883 is usual with TLS)"}

/* log_level, the TLS files, the credentials and the simulated clock. */
#define WP_DAEMON_COMMON_OPTIONS(type, member)                                               \
    {"log_level", WP_CONFIG_STRING, "info", 0, 0, WP_DAEMON_OPT_(type, member, log_level), 0, \
     "error, warning, notice, info or debug"},                                               \
    {"cafile", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, cafile), 0,        \
     "CA certificate (PEM) of the broker; setting it turns TLS on"},                         \
    {"certfile", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, certfile), 0,    \
     "client certificate (PEM) for TLS client authentication (optional)"},                   \
    {"keyfile", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, keyfile), 0,      \
     "private key (PEM) of certfile"},                                                       \
    {"username", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, username), 0,    \
     "MQTT user name (optional)"},                                                           \
    {"password_file", WP_CONFIG_STRING, NULL, 0, 0,                                          \
     WP_DAEMON_OPT_(type, member, password_file), 0,                                         \
     "file whose first line is the MQTT password (keeps it out of the config and of ps)"},   \
    {"clock_start", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, clock_start), \
     0, "simulated clock: the instant (RFC 3339, e.g. 2022-05-01T00:00:00+07:00) the clock " \
     "shows at start; for tests, replays and the demo. Unset: the real time"},               \
    {"clock_rate", WP_CONFIG_INT, "1", 1, 100000000, WP_DAEMON_OPT_(type, member, clock_rate), \
     0, "simulated clock: simulated seconds per real second (86400: a day per second); "     \
     "1 with no clock_start is real time"},                                                  \
    {"clock_anchor", WP_CONFIG_STRING, NULL, 0, 0,                                           \
     WP_DAEMON_OPT_(type, member, clock_anchor), 0,                                          \
     "simulated clock: the real instant (RFC 3339) at which it showed clock_start; give "    \
     "every process of a simulation (agents, their submits, the aggregator) the same, so "   \
     "that their clocks agree and a restart finds the simulated time gone on. Unset: when "  \
     "the process starts"},                                                                  \
    {"clock_stop", WP_CONFIG_STRING, NULL, 0, 0, WP_DAEMON_OPT_(type, member, clock_stop), 0, \
     "simulated clock: the instant (RFC 3339) at which it stops and stays, so that a "       \
     "replay ends in a known state however late the daemon is stopped. Unset: it runs on"}

/* The checks and derived values described above. cmd names where a bad value was set. */
enum wp_err wp_daemon_config_check(struct wp_daemon_config *d, const struct wp_cmdline *cmd,
                                   char *err, size_t errlen);

/* Starts the simulated clock d asks for (clock_start, clock_rate, clock_anchor,
 * clock_stop) and logs it at `level`; real time when it asks for none. */
void wp_daemon_config_apply_clock(const struct wp_daemon_config *d, int level);

#endif
