/* agent_config.h — the settings of wardpulse-agent, as one table (see common/config.h).
 *
 * The table is the documentation: `wardpulse-agent --help` prints it, docs/ copies it.
 * agent_config_load() runs the common loader over the table and then checks what a
 * table cannot express (a ward code of five digits or a district code of three, and the
 * shared checks of daemon_config.h) and fills derived defaults (client_id = ward).
 */
#ifndef WP_AGENT_CONFIG_H
#define WP_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon_config.h"
#include "error.h"

#define AGENT_DEFAULT_OUTBOX_PATH "/var/lib/wardpulse-agent/outbox.db"

struct agent_config {
    char *ward;              /* the reporting unit: a ward "00001" (five digits) or a
                              * district "001" (three digits) */
    struct wp_daemon_config daemon;  /* broker, TLS, credentials, log level, clock */
    char *client_id;         /* never NULL after a successful load: defaults to ward */
    char *outbox_path;
    char *spool_dir;         /* NULL: no spool intake */
    int64_t spool_interval_ms;   /* how often what could not be done is tried again */
    int64_t spool_settle_ms;     /* a file found by listing must be unchanged this long */
    int64_t spool_incomplete_timeout_ms; /* an unfinished CSV unchanged this long is refused */
    long long spool_max_bytes;   /* larger files are refused */
    int64_t ack_timeout_ms;      /* first wait for an ack after the PUBACK */
    int64_t ack_timeout_max_ms;  /* the wait doubles up to this; >= ack_timeout_ms */
    int64_t archive_days;        /* acked reports kept this long ... */
    int64_t archive_max;         /* ... and at most this many */
    int64_t reconnect_min_ms;    /* first wait before reconnecting to the broker */
    int64_t reconnect_max_ms;    /* >= reconnect_min_ms */
    int64_t poll_interval_ms;
};

/* The option table, ending with an entry whose name is NULL. */
extern const struct wp_config_option agent_config_options[];

/* Loads defaults, the file of cmd and the command-line overrides into *cfg (zeroed
 * first), then checks and derives as described above. On error err names file:line or
 * the key. The strings of *cfg are owned by it: agent_config_free releases them, also
 * after a failed load. */
enum wp_err agent_config_load(struct agent_config *cfg, const struct wp_cmdline *cmd, char *err,
                              size_t errlen);

void agent_config_free(struct agent_config *cfg);

#endif
