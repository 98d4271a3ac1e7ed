/* agent_config.h — the settings of wardpulse-agent, as one table (see common/config.h).
 *
 * The table is the documentation: `wardpulse-agent --help` prints it, docs/ copies it.
 * agent_config_load() runs the common loader over the table and then checks what a
 * table cannot express (a ward code of five digits or a district code of three, a known
 * log level, RFC 3339 clock instants) and fills derived defaults (client_id = ward).
 */
#ifndef WP_AGENT_CONFIG_H
#define WP_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

#define AGENT_DEFAULT_OUTBOX_PATH "/var/lib/wardpulse-agent/outbox.db"

struct agent_config {
    char *ward;              /* the reporting unit: a ward "00001" (five digits) or a
                              * district "001" (three digits) */
    char *broker_host;
    long long broker_port;
    char *client_id;         /* never NULL after a successful load: defaults to ward */
    char *outbox_path;
    char *spool_dir;         /* NULL: no spool intake */
    int64_t spool_interval_ms;   /* how often the daemon looks into spool_dir */
    int64_t spool_settle_ms;     /* a file must be unchanged this long to be taken */
    long long spool_max_bytes;   /* larger files are refused */
    int64_t ack_timeout_ms;      /* first wait for an ack after the PUBACK */
    int64_t ack_timeout_max_ms;  /* the wait doubles up to this; >= ack_timeout_ms */
    int64_t reconnect_min_ms;    /* first wait before reconnecting to the broker */
    int64_t reconnect_max_ms;    /* >= reconnect_min_ms */
    int64_t poll_interval_ms;
    char *log_level;
    int log_level_value;     /* derived: WP_LOG_* of log_level */
    char *cafile;
    char *certfile;
    char *keyfile;
    char *username;
    char *password_file;
    char *clock_start;           /* RFC 3339, or NULL: the clock starts at the real now */
    long long clock_rate;        /* simulated seconds per real second; 1 = real time */
    int64_t clock_start_ms;      /* derived: clock_start as Unix ms, or WP_CLOCK_START_NOW */
    char *clock_anchor;          /* RFC 3339: the real instant the clock showed clock_start */
    int64_t clock_anchor_ms;     /* derived; 0 when clock_anchor is unset */
};

/* Starts the simulated clock of cfg (clock_start, clock_rate, clock_anchor) if it asks for
 * one, before anything reads the time. Real time otherwise. */
void agent_config_apply_clock(const struct agent_config *cfg);

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
