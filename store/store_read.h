/* store_read.h — the aggregator's database for a reader: `wardpulse` (the CLI) opens it
 * read-only through here and asks the queries below, one file per group of tables
 * (store_readonly.c: the connection; reports_read.c: reports, values and rejections;
 * schedule_read.c: reporting rates; alerts_read.c: alerts and their events;
 * levels_read.c: epidemic levels). Table layout: store.h.
 *
 * Read-only (SQLITE_OPEN_READONLY): in WAL mode a reader never blocks the daemon and sees
 * every committed transaction; a busy timeout of 5 s rides out a checkpoint. A path that
 * does not exist is an error, never a new file. No SQLite type leaves the store.
 *
 * Errors: WP_ERR_DB (WP_ERR_NOMEM), with err or store_errmsg() saying what, e.g.
 * "/var/lib/wardpulse/wardpulse.db: database schema version 9 is newer than this program
 * knows (5); upgrade wardpulse to read it". Strings handed to a callback are valid only
 * during the call.
 */
#ifndef WP_STORE_READ_H
#define WP_STORE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Opens path read-only and checks that its schema version is at least min_version (what
 * the caller reads appeared then) and at most STORE_SCHEMA_VERSION. On success *out is
 * the store (store_close); on failure err says why (a missing file: "database PATH does
 * not exist (see db_path …)"). The write functions of store.h must not be called on it. */
enum wp_err store_open_readonly(const char *path, int min_version, struct store **out,
                                char *err, size_t errlen);

/* Each query below calls fn once per row, in the order it names; fn returns 0 to go on,
 * anything else to stop (the query then returns WP_ERR_NOMEM: a reader stops only when
 * it cannot hold more). */

/* A row that is a unit (or alert scope) and one number about it. */
typedef int (*store_read_number_fn)(void *ctx, const char *unit, int64_t number);

/* ---- reports_read.c: reports, values, rejections ------------------------------------ */

/* The units the database knows of (reports of five-digit units, schedule rows, alert
 * and level scopes other than the served unit's), by code. */
enum wp_err store_read_units(struct store *store, int (*fn)(void *ctx, const char *unit),
                             void *ctx);

/* When each unit's newest report arrived (Unix ms), by unit. */
enum wp_err store_read_last_reports(struct store *store, store_read_number_fn fn, void *ctx);

/* What `wardpulse export` writes: the values (each with the report that carried it), the
 * rejected messages, or the audit trail (every message received, accepted or not, in
 * arrival order). */
enum store_export { STORE_EXPORT_VALUES, STORE_EXPORT_REJECTED, STORE_EXPORT_RAW };

struct store_export_filter {
    const char *from, *to;     /* YYYY-MM-DD or NULL: values, periods that overlap
                                * [from, to]; rejected and raw, the day received */
    const char *ward;          /* or NULL */
    bool current;              /* values: only those in force */
};

struct store_column {
    const char *name;          /* "ward", "value", … */
    bool integer;              /* else text (the raw payload: bytes) */
};

/* One cell of a row: null, else integer (column.integer) or text; the raw payload (the
 * last column of STORE_EXPORT_RAW) is bytes: text points at them, bytes says how many
 * (not NUL-terminated when they hold a NUL). */
struct store_cell {
    bool null;
    int64_t integer;
    const char *text;
    size_t bytes;
};

/* The columns of an export, in row order; *count of them. Static. */
const struct store_column *store_export_columns(enum store_export which, int *count);

/* The rows of an export (ordered as `wardpulse export --help` says). */
enum wp_err store_read_export(struct store *store, enum store_export which,
                              const struct store_export_filter *filter,
                              int (*fn)(void *ctx, const struct store_cell *cells), void *ctx);

/* ---- schedule_read.c: reporting rates ---------------------------------------------- */

/* Per unit, the periods expected (cut-off passed), received complete and on time under
 * the schedule rules: over every period (week NULL), or over the days first..last
 * (YYYY-MM-DD) and the ISO week `week` ("2022-W19"). By unit. */
struct store_rates {
    int64_t expected, received, on_time;
};
enum wp_err store_read_rates(struct store *store, const char *first, const char *last,
                             const char *week,
                             int (*fn)(void *ctx, const char *unit,
                                       const struct store_rates *rates),
                             void *ctx);

/* ---- alerts_read.c: alerts and their events ----------------------------------------- */

/* Per scope, the alerts firing now and how many of them are critical. */
enum wp_err store_read_firing_counts(struct store *store,
                                     int (*fn)(void *ctx, const char *scope, int firing,
                                               int critical),
                                     void *ctx);

/* Per scope, how many alerts were firing at the instant at_ms (their last transition
 * before it). */
enum wp_err store_read_firing_at(struct store *store, int64_t at_ms, store_read_number_fn fn,
                                 void *ctx);

/* An announced alert as `wardpulse alerts` lists it. */
struct store_alert {
    const char *rule, *scope;
    int64_t since_ms;
    const char *severity;      /* "critical", "warning", "info" */
    const char *district;      /* the served unit's code */
    const char *summary;       /* in the language asked */
    const char *kind;
    const char *acknowledged_by;   /* the officer who acknowledged it; "" when none */
    const char *silenced_until;    /* RFC 3339, while a silence covers it; "" when none */
};

/* The announced alerts in state ("firing", "resolved") since since_ms, critical first,
 * then warning, then the rest; newest first; the served unit before its units. */
enum wp_err store_read_alerts(struct store *store, const char *state, int64_t since_ms,
                              bool vi, int (*fn)(void *ctx, const struct store_alert *alert),
                              void *ctx);

/* An alert transition (alert_events). */
struct store_alert_event {
    int64_t at_ms;
    const char *rule, *scope, *state, *severity;
    const char *summary_vi;
};

/* The transitions dated in [from_ms, to_ms), oldest first. */
enum wp_err store_read_alert_events(struct store *store, int64_t from_ms, int64_t to_ms,
                                    int (*fn)(void *ctx, const struct store_alert_event *e),
                                    void *ctx);

/* The served unit's code as the aggregator wrote it in an alert or a level; "" (false)
 * when it wrote none. */
enum wp_err store_read_served_code(struct store *store, char *code, size_t size);

/* ---- levels_read.c: epidemic levels ------------------------------------------------- */

/* A level recorded for a unit's week. */
struct store_level_last {
    const char *scope, *week;
    int level;
    const char *name;    /* the unit's name from its payload; NULL when absent */
    bool incomplete;     /* the week had days missing: the level is a floor */
};
/* Per scope and level rule, the level of the latest week recorded before `week` (the
 * last complete one). */
enum wp_err store_read_last_levels(struct store *store, const char *week,
                                   int (*fn)(void *ctx, const struct store_level_last *last),
                                   void *ctx);

/* Per scope, the highest level recorded for `week`. */
enum wp_err store_read_week_levels(struct store *store, const char *week,
                                   store_read_number_fn fn, void *ctx);

/* A week whose level changed or was incomplete (`wardpulse alerts --all`). */
struct store_level_change {
    const char *scope, *week;
    int level;
    bool has_previous;
    int previous;
    bool incomplete;
    int missing_days;
    const char *since;         /* RFC 3339, as the payload says */
    const char *district;
};

/* The weeks in which a unit's level changed, or that were incomplete; newest week first,
 * the served unit before its units. */
enum wp_err store_read_level_changes(struct store *store,
                                     int (*fn)(void *ctx, const struct store_level_change *c),
                                     void *ctx);

/* Says what went wrong with the last read, "PATH: message" (store_errmsg is SQLite's
 * alone). Owned by the store. */
const char *store_read_error(struct store *store);

#endif
