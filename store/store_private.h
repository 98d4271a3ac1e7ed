/* store_private.h — what the store's files share (store.c: the file, its schema and the
 * statement cache; store_reports.c: reports, values and rejections; store_streams.c: the
 * ack state of each stream and the seqs declared lost; store_alerts.c, store_schedule.c,
 * store_levels.c, store_rollup.c, store_control.c: the tables of alerts, schedules, levels,
 * rollup and officers' commands; store_intern.c: unit and indicator ids).
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
    STMT_UPSERT_CURRENT_VALUE,
    STMT_INSERT_TASK,
    STMT_UPSERT_CURRENT_TASK,
    STMT_INSERT_REJECTED,
    STMT_TOUCH_STREAM,
    STMT_GET_ACKED,
    STMT_SET_ACKED,
    STMT_REJECTED_RANGE,
    STMT_FIRST_REPORT,
    STMT_TASK_STATE,
    STMT_WARD_SERIES,
    STMT_PERIOD_VALUES,
    /* store_intern.c */
    STMT_UNIT_ID,
    STMT_UNIT_ADD,
    STMT_INDICATOR_ID,
    STMT_INDICATOR_ADD,
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
    STMT_SCHEDULE_COMPLETION,
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
extern const struct store_statement store__intern_statements[];

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
    struct store_intern units, indicators;   /* ids known to be in the file */
};

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
 * now (inside the caller's transaction) if it has none. */
enum wp_err store__intern(struct store *store, bool unit, const char *text, int64_t *id);

/* Forgets every cached id (after a rollback, or at close). */
void store__intern_clear(struct store_intern *map);

/* True (in *known) if (ward, stream, seq) is in reports or rejected. */
enum wp_err store__known(struct store *store, const char *ward, const char *stream, int64_t seq,
                         bool *known);

#endif
