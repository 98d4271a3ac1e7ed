/* store_private.h — what the store's files share (store.c: the file, its schema and the
 * statement cache; store_reports.c: reports, values and rejections; store_streams.c: the
 * ack state of each stream and the seqs declared lost; store_alerts.c, store_schedule.c,
 * store_levels.c, store_rollup.c, store_control.c: the tables of alerts, schedules, levels,
 * rollup and officers' commands; store_intern.c: unit and indicator ids; store_values.c
 * and store_packed.c: the values in force, packed).
 * Nothing outside store/store*.c includes it: the contracts are store.h and the group
 * headers. */
#ifndef WP_AGGREGATOR_STORE_PRIVATE_H
#define WP_AGGREGATOR_STORE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db_file.h"
#include "store.h"

/* Prepared once, reused for every report: parsing SQL per row would dominate the cost
 * of a group commit. */
enum store_stmt {
    STMT_KNOWN,
    STMT_IDENTITY,
    STMT_LOST_AT,
    STMT_INSERT_LOST,
    STMT_SET_DELIVERY,
    STMT_LOST_SINCE,
    STMT_SAME_UNIDENTIFIED,
    STMT_REPEAT_REJECTED,
    STMT_REJECTED_TODAY,
    STMT_OVERFLOW,
    STMT_INSERT_REPORT,
    STMT_INSERT_TASK,
    STMT_UPSERT_CURRENT_TASK,
    STMT_INSERT_REJECTED,
    STMT_TOUCH_STREAM,
    STMT_GET_ACKED,
    STMT_SET_ACKED,
    STMT_REJECTED_RANGE,
    STMT_FIRST_REPORT,
    STMT_TASK_STATE,
    /* store_values.c */
    STMT_PACKED_GET,
    STMT_PACKED_PUT,
    STMT_REPORT_ORDER,
    STMT_REPORT_RECEIVED,
    STMT_WARD_SERIES,
    STMT_PERIOD_VALUES,
    /* store_intern.c */
    STMT_UNIT_ID,
    STMT_UNIT_ADD,
    STMT_INDICATOR_ID,
    STMT_INDICATOR_ADD,
    STMT_INDICATOR_NAME,
    /* store_alerts.c */
    STMT_ALERT_GET,
    STMT_ALERT_INSERT,
    STMT_ALERT_UPDATE,
    STMT_ALERT_SET_STATE,
    STMT_ALERT_EVENT,
    STMT_ALERT_UNANNOUNCED,
    STMT_ALERT_ANNOUNCED,
    STMT_ALERT_REPEATS,
    STMT_ALERT_REPEATED,
    STMT_ALERT_NEXT_REPEAT,
    STMT_ALERT_ACTIVE,
    STMT_ALERT_FIRING_COUNT,
    STMT_ALERT_RETAINED,
    STMT_ALERT_EVENTS,
    /* store_schedule.c */
    STMT_SCHEDULE_STATUS,
    STMT_SCHEDULE_STATUS_SET,
    STMT_SCHEDULE_CLEAR,
    /* store_levels.c */
    STMT_LEVEL_WEEK,
    STMT_LEVEL_PUBLISHED_GET,
    STMT_LEVEL_PUBLISHED_SET,
    STMT_LEVEL_UNANNOUNCED,
    STMT_LEVEL_ANNOUNCED,
    STMT_LEVEL_RETAINED,
    /* store_rollup.c */
    STMT_ROLLUP_SENT,
    STMT_ROLLUP_SENT_SET,
    STMT_ROLLUP_NEXT_FILE_ID,
    STMT_ROLLUP_FILE_ADD,
    /* store_control.c */
    STMT_CONTROL_LOG,
    STMT_SILENCE_ADD,
    STMT_SILENCE_END,
    STMT_SILENCE_ACTIVE,
    /* store_refusals.c */
    STMT_REFUSALS_ON_DAY,
    STMT_COUNT
};

/* A statement of the cache and its SQL. Each file of a group of tables lists its own,
 * ending with {STMT_COUNT, NULL}; store_open prepares them all. */
struct store_statement {
    enum store_stmt which;
    const char *sql;
};
extern const struct store_statement store__report_statements[];
extern const struct store_statement store__alert_statements[];
extern const struct store_statement store__schedule_statements[];
extern const struct store_statement store__level_statements[];
extern const struct store_statement store__rollup_statements[];
extern const struct store_statement store__control_statements[];
extern const struct store_statement store__refusal_statements[];
extern const struct store_statement store__intern_statements[];
extern const struct store_statement store__value_statements[];

/* values_in_force.packed (store.h, version 7): the values in force of one (unit,
 * period), by indicator id. The blob: a format byte (STORE_PACKED_FORMAT), then one entry
 * per indicator in ascending id, each LEB128 numbers: (id − previous id) << 3 | flags,
 * the value (zigzag), then for each flag bit set, in this order, the change from the
 * previous entry (zigzag; the first entry's previous is all 0): bit 0 report_id, bit 1
 * first_id, bit 2 first_judged_ms. A report's values share their report: ~3 bytes
 * each. */
#define STORE_PACKED_FORMAT 1
struct store_packed_value {
    int64_t indicator;        /* indicators.id */
    int64_t value;
    int64_t report_id;        /* the report in force */
    int64_t first_id;         /* the first report that carried it */
    int64_t first_judged_ms;  /* the earliest instant judged of any that carried it */
};
struct store_packed {
    struct store_packed_value *v;
    size_t count, cap;
};
/* Appends the entries of a blob to out (emptied first); false when it is not one. */
bool store__packed_decode(const void *blob, size_t len, struct store_packed *out);
/* Sorts p by indicator and writes its blob into *buf (grown as needed, *cap bytes). */
bool store__packed_encode(struct store_packed *p, unsigned char **buf, size_t *len,
                          size_t *cap);
struct store_packed_value *store__packed_find(struct store_packed *p, int64_t indicator);
/* A new zeroed entry for indicator (NULL: out of memory); no check for one there. */
struct store_packed_value *store__packed_add(struct store_packed *p, int64_t indicator);
void store__packed_free(struct store_packed *p);

/* Writes the values of a report just stored as report_id into values_in_force
 * (store_values.c). */
enum wp_err store__values_add(struct store *store, const struct wp_report *report,
                              int64_t report_id, int64_t observed_ms, int64_t judged_ms);

/* The values in force of one (ward, period) at a time, for a reader that walks many
 * (`wardpulse export --current`): the row is read again only when they change. */
struct store_values_cursor {
    bool loaded;
    char ward[16], period[16];
    struct store_packed row;   /* store__packed_free when done */
};
/* The report in force for (ward, period, indicator) into *report_id; 0 when none. */
enum wp_err store__values_report_in_force(struct store *store, struct store_values_cursor *c,
                                          const char *ward, const char *period,
                                          const char *indicator, int64_t *report_id);

/* store_schedule_each_arrival's walk over values_in_force (store_values.c): the rows of
 * unit for period and for the days first … last. */
enum wp_err store__values_each_arrival(struct store *store, const char *unit,
                                       const char *period, const char *first, const char *last,
                                       enum wp_err (*fn)(void *ctx, const char *indicator,
                                                         int64_t judged_ms,
                                                         int64_t received_ms),
                                       void *ctx);

/* Migration 7's step (store_values.c): packs the version-6 current_values, with the
 * first report and earliest judged instant report_values knows, into values_in_force. */
enum wp_err store__values_migrate(struct store *store);

/* Codes or names and their ids (store_intern.c): an open-addressing table. */
struct store_intern_slot {
    char *text;               /* NULL: free */
    int64_t id;
};
struct store_intern {
    struct store_intern_slot *slots;
    size_t cap, count;        /* cap: 0 or a power of two */
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    int64_t rejected_max_count;     /* per ward and local day; 0: no bound */
    int64_t rejected_max_bytes;
    int schema_version;
    bool in_transaction;
    char errmsg[512];
    char *path;
    struct wp_db_identity identity;   /* of the file opened at path */
    bool replaced;            /* path names another file now: nothing more is committed */
    int lock_fd;              /* holds path + STORE_LOCK_SUFFIX; -1 when none */
    struct store_checkpointer *checkpointer;   /* store_checkpoint.c; NULL until started */
    struct store_intern units, indicators;   /* ids known to be in the file */
    char **indicator_names;   /* by id, as looked up (store__indicator_name) */
    size_t indicator_names_cap;
    struct store_packed packed;   /* the writer's scratch row (store_values.c) */
    unsigned char *packed_buf;
    size_t packed_cap;
};

/* Starts the thread that checkpoints the WAL and hands it the writer's WAL hook; stops
 * and joins it (nothing when not started). store_checkpoint.c. */
enum wp_err store__checkpointer_start(struct store *store);
void store__checkpointer_stop(struct store *store);

/* Records SQLite's complaint in store->errmsg and maps its code onto wp_err
 * (WP_ERR_FULL when the disk or database is full). */
enum wp_err store__fail(struct store *store, int rc, const char *what);

/* A cached statement, reset and cleared, ready for its next use. */
sqlite3_stmt *store__stmt(struct store *store, enum store_stmt which);

/* Steps through the rows of stmt (then resets it), calling row for each until it returns
 * other than WP_OK, which is then returned; a SQLite error is mapped by store__fail. */
enum wp_err store__each(struct store *store, sqlite3_stmt *stmt, const char *what,
                        enum wp_err (*row)(void *ctx, sqlite3_stmt *stmt), void *ctx);

/* store__each for statements whose rows are (text, integer): calls fn with each. */
enum wp_err store__each_named_value(struct store *store, sqlite3_stmt *stmt, const char *what,
                                    enum wp_err (*fn)(void *ctx, const char *name,
                                                      int64_t value),
                                    void *ctx);

/* Runs a statement that returns no rows. */
enum wp_err store__step_done(struct store *store, sqlite3_stmt *stmt, const char *what);

/* Binds text (NULL: SQL NULL) that stays valid until the statement is reset. */
void store__bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* The text of a column; "" for NULL. */
const char *store__column_text(sqlite3_stmt *stmt, int column);

/* A cached statement (store__stmt) with text parameters 1 and 2 bound (until its reset). */
sqlite3_stmt *store__stmt_texts(struct store *store, enum store_stmt which, const char *first,
                                const char *second);

/* A cached statement whose parameters 1, 2, 3 are a report's identity. */
sqlite3_stmt *store__stmt_identity(struct store *store, enum store_stmt which,
                                   const char *ward, const char *stream, int64_t seq);

/* The id of a unit's code (unit) or an indicator's name in units / indicators, given
 * now (inside the caller's transaction) if it has none and add; 0 when it has none and
 * not add. */
enum wp_err store__intern(struct store *store, bool unit, const char *text, bool add,
                          int64_t *id);

/* The name of indicator id; NULL (store->errmsg says why) when the file has none. */
const char *store__indicator_name(struct store *store, int64_t id);

void store__intern_clear(struct store_intern *map);
/* Forgets every cached id and name (after a rollback, or at close). */
void store__intern_forget(struct store *store);

/* True (in *known) if (ward, stream, seq) is in reports or rejected. */
enum wp_err store__known(struct store *store, const char *ward, const char *stream, int64_t seq,
                         bool *known);

#endif
