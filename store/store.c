/* store.c — the aggregator's SQLite database: the file, its schema and migrations, the
 * statement cache, SQLite's errors and transactions (contract and schema in store.h).
 * The queries of each group of tables live in store_reports.c (reports, values, tasks,
 * rejections), store_streams.c (ack state, lost seqs), store_alerts.c, store_schedule.c,
 * store_levels.c and store_rollup.c, store_intern.c (unit and indicator ids),
 * store_values.c and store_packed.c (the values in force); they share store_private.h. */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db_file.h"
#include "log.h"
#include "timefmt.h"

/* Migrations, oldest first: migration i brings the schema from version i to i + 1.
 * Append only; never edit one that has shipped (databases in the field ran it). */
static const char *const store_migrations[] = {
    /* 1: reports, values, rejections, ack state */
    "CREATE TABLE reports ("
    "  id INTEGER PRIMARY KEY,"
    "  ward TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  period TEXT NOT NULL,"
    "  period_first TEXT NOT NULL,"
    "  period_last TEXT NOT NULL,"
    "  observed_at TEXT NOT NULL,"
    "  observed_ms INTEGER NOT NULL,"
    "  received_at TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  UNIQUE (ward, stream, seq));"
    "CREATE INDEX reports_ward_period ON reports (ward, period_first);"
    "CREATE TABLE report_values ("
    "  report_id INTEGER NOT NULL REFERENCES reports (id),"
    "  ward TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  indicator TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (report_id, indicator)) WITHOUT ROWID;"
    "CREATE INDEX report_values_ward_period ON report_values (ward, period, indicator);"
    "CREATE TABLE report_tasks ("
    "  report_id INTEGER NOT NULL REFERENCES reports (id),"
    "  ward TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  task TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  PRIMARY KEY (report_id, task)) WITHOUT ROWID;"
    "CREATE TABLE current_values ("
    "  ward TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  indicator TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  report_id INTEGER NOT NULL REFERENCES reports (id),"
    "  observed_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (ward, period, indicator)) WITHOUT ROWID;"
    "CREATE TABLE current_tasks ("
    "  ward TEXT NOT NULL,"
    "  task TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  report_id INTEGER NOT NULL REFERENCES reports (id),"
    "  observed_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (ward, task)) WITHOUT ROWID;"
    "CREATE TABLE rejected ("
    "  id INTEGER PRIMARY KEY,"
    "  received_at TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  ward TEXT,"
    "  stream TEXT,"
    "  seq INTEGER,"
    "  reason TEXT NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  payload_bytes INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX rejected_identity ON rejected (ward, stream, seq)"
    "  WHERE seq IS NOT NULL;"
    "CREATE TABLE streams ("
    "  ward TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  acked_through INTEGER NOT NULL DEFAULT 0,"
    "  first_seen_at TEXT NOT NULL,"
    "  last_seen_at TEXT NOT NULL,"
    "  PRIMARY KEY (ward, stream)) WITHOUT ROWID;",

    /* 2: alerts, their history, reporting timeliness, epidemic levels */
    "CREATE TABLE alerts ("
    "  rule TEXT NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),"
    "  since_ms INTEGER NOT NULL,"
    "  payload TEXT,"
    "  payload_state TEXT CHECK (payload_state IN ('firing', 'resolved')),"
    "  rev INTEGER NOT NULL DEFAULT 0,"
    "  event_rev INTEGER NOT NULL DEFAULT 0,"
    "  announced_rev INTEGER NOT NULL DEFAULT 0,"
    "  announced_ms INTEGER NOT NULL DEFAULT 0,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (rule, scope)) WITHOUT ROWID;"
    "CREATE INDEX alerts_unannounced ON alerts (rule, scope) WHERE announced_rev < rev;"
    "CREATE INDEX alerts_active ON alerts (state) WHERE state <> 'resolved';"
    "CREATE TABLE alert_events ("
    "  id INTEGER PRIMARY KEY,"
    "  rule TEXT NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  payload TEXT NOT NULL);"
    "CREATE INDEX alert_events_identity ON alert_events (rule, scope, id);"
    "CREATE TABLE schedule_status ("
    "  rule TEXT NOT NULL,"
    "  ward TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  complete_ms INTEGER,"
    "  on_time INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (rule, ward, period)) WITHOUT ROWID;"
    "CREATE VIEW reporting_rates AS"
    "  SELECT rule, ward, COUNT(*) AS expected, COUNT(complete_ms) AS received,"
    "         SUM(on_time) AS on_time,"
    "         ROUND(100.0 * COUNT(complete_ms) / COUNT(*), 1) AS completeness_pct,"
    "         ROUND(100.0 * SUM(on_time) / COUNT(*), 1) AS timeliness_pct"
    "  FROM schedule_status GROUP BY rule, ward;"
    "CREATE TABLE levels ("
    "  rule TEXT NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  week TEXT NOT NULL,"
    "  level INTEGER NOT NULL,"
    "  version TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  PRIMARY KEY (rule, scope, week)) WITHOUT ROWID;"
    "CREATE TABLE level_published ("
    "  rule TEXT NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  announced INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (rule, scope)) WITHOUT ROWID;"
    "CREATE INDEX current_values_indicator ON current_values (indicator, ward, period);"
    "CREATE INDEX report_tasks_ward_task ON report_tasks (ward, task);"
    /* A task's state in force is that of the latest period naming it: a back-filled
     * report of an older period must not undo a newer "done". */
    "ALTER TABLE current_tasks ADD COLUMN period_last TEXT NOT NULL DEFAULT '';"
    "UPDATE current_tasks SET period_last ="
    "  (SELECT r.period_last FROM reports r WHERE r.id = current_tasks.report_id);",
    /* 2 → 3: what a district has handed upward (rollup.h). Versions 1.x created these
     * when a rollup was configured, outside the migrations: hence IF NOT EXISTS. */
    "CREATE TABLE IF NOT EXISTS rollup_sent ("
    "  unit TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  indicator TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  file_id INTEGER NOT NULL,"
    "  PRIMARY KEY (unit, indicator, period)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_files ("
    "  id INTEGER PRIMARY KEY,"
    "  unit TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  written_ms INTEGER NOT NULL,"
    "  written_at TEXT NOT NULL,"
    "  reports INTEGER NOT NULL);",
    /* 3 → 4: the edges of exactly-once (docs/architecture.md, "Healing a gap").
     * A seq names one report: the content hash of what was stored under it, and one
     * rejection row per distinct content (old rows keep NULL: taken as the same).
     * Within a stream the later seq supersedes (current_* remember which report).
     * What each agent last said of its outbox, and the seqs declared lost. */
    "ALTER TABLE reports ADD COLUMN content_hash INTEGER;"
    "ALTER TABLE rejected ADD COLUMN content_hash INTEGER;"
    "DROP INDEX rejected_identity;"
    "CREATE UNIQUE INDEX rejected_identity ON rejected (ward, stream, seq, content_hash)"
    "  WHERE seq IS NOT NULL;"
    "ALTER TABLE streams ADD COLUMN unacked_from INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE streams ADD COLUMN kept_from INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE lost_reports ("
    "  ward TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  first_seq INTEGER NOT NULL,"
    "  last_seq INTEGER NOT NULL,"
    "  declared_ms INTEGER NOT NULL,"
    "  declared_at TEXT NOT NULL,"
    "  PRIMARY KEY (ward, stream, first_seq)) WITHOUT ROWID;"
    "ALTER TABLE current_values ADD COLUMN stream TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE current_values ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE current_values SET (stream, seq) ="
    "  (SELECT r.stream, r.seq FROM reports r WHERE r.id = current_values.report_id);"
    "ALTER TABLE current_tasks ADD COLUMN stream TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE current_tasks ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE current_tasks SET (stream, seq) ="
    "  (SELECT r.stream, r.seq FROM reports r WHERE r.id = current_tasks.report_id);"
    /* One ward cannot fill the district's disk with junk: rejections are counted per
     * ward and day (the index), identical ones kept once (repeats), and what is over
     * the bound only counted (rejected_overflow). */
    "ALTER TABLE rejected ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX rejected_ward_time ON rejected (ward, received_ms);"
    "CREATE INDEX rejected_unidentified ON rejected (ward, content_hash) WHERE seq IS NULL;"
    "CREATE TABLE rejected_overflow ("
    "  ward TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  messages INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  PRIMARY KEY (ward, day)) WITHOUT ROWID;",
    /* 4 → 5: on time means when the ward committed it (store.h, version 5). Rows from
     * before keep NULL: judged by their arrival, as they were. */
    "ALTER TABLE reports ADD COLUMN committed_at TEXT;"
    "ALTER TABLE reports ADD COLUMN committed_ms INTEGER;"
    "ALTER TABLE reports ADD COLUMN judged_ms INTEGER;"
    "ALTER TABLE schedule_status ADD COLUMN received_ms INTEGER;",
    /* 5 → 6: officers' commands (store_control.h): every one in control_log, the audit,
     * even those refused; the silences they set. Acknowledgements live in the alert's
     * payload (alerts table), for the episode they acknowledge. */
    "CREATE TABLE control_log ("
    "  id INTEGER PRIMARY KEY,"
    "  received_ms INTEGER NOT NULL,"
    "  received_at TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  requested_by TEXT,"
    "  payload BLOB NOT NULL,"
    "  outcome TEXT NOT NULL);"
    "CREATE TABLE silences ("
    "  id INTEGER PRIMARY KEY,"
    "  rule TEXT,"
    "  scope TEXT,"
    "  until_ms INTEGER NOT NULL,"
    "  requested_by TEXT NOT NULL,"
    "  comment TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  ended_by TEXT);",
    /* 6 → 7: a lean store (issue 13). A value was written four times, in B-trees with
     * text keys (report_values and its index, current_values and its index). Now units
     * and indicators are small integers, and the values in force of a (unit, period) one
     * row of values_in_force, packed (store_private.h): each value, the report in force,
     * the first report to carry it, the earliest instant judged. The C step that packs
     * the old rows follows (store_migration_steps), then store_migration_after[6].
     * Every value of every report is still in reports.payload, the message as received:
     * the view report_values reads it as the old table did. */
    "CREATE TABLE units ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL UNIQUE);"
    "CREATE TABLE indicators ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE);"
    "INSERT INTO units (code) SELECT DISTINCT ward FROM current_values ORDER BY 1;"
    "INSERT INTO indicators (name) SELECT DISTINCT indicator FROM current_values ORDER BY 1;"
    "CREATE TABLE values_in_force ("
    "  unit INTEGER NOT NULL,"
    "  period TEXT NOT NULL,"
    "  packed BLOB NOT NULL,"
    "  PRIMARY KEY (unit, period)) WITHOUT ROWID;",
};

/* What a migration does beyond its SQL, in C, then SQL again (NULL: nothing). */
static enum wp_err (*const store_migration_steps[])(struct store *store) = {
    [6] = store__values_migrate,
};
static const char *const store_migration_after[] = {
    [6] = "DROP INDEX current_values_indicator;"
          "DROP TABLE current_values;"
          "DROP INDEX report_values_ward_period;"
          "DROP TABLE report_values;"
          "CREATE VIEW report_values AS"
          "  SELECT r.id AS report_id, r.ward, r.period, j.key AS indicator, j.value AS value"
          "  FROM reports r, json_each(r.payload, '$.values') j;",
};

#define STORE_MIGRATION_COUNT ((int)(sizeof store_migrations / sizeof store_migrations[0]))
_Static_assert(STORE_MIGRATION_COUNT == STORE_SCHEMA_VERSION, "STORE_SCHEMA_VERSION (store.h)");



/* Records SQLite's complaint and maps its code onto wp_err. */
enum wp_err store__fail(struct store *store, int rc, const char *what)
{
    snprintf(store->errmsg, sizeof store->errmsg, "%s: %s (%s)", what,
             sqlite3_errmsg(store->db), sqlite3_errstr(rc));
    return wp_db_error(store->db, rc);
}

/* Every group's statements (store_private.h): the daemon's store prepares them all when
 * it opens, so that a statement the schema cannot take stops it at the start; a reader's
 * store (store_read.h) prepares each at its first use, since it reads a few. */
static const struct store_statement *const store_statement_groups[] = {
    store__report_statements, store__alert_statements, store__schedule_statements,
    store__level_statements, store__rollup_statements, store__control_statements,
    store__refusal_statements,
    store__intern_statements, store__value_statements,
};

static enum wp_err store_prepare(struct store *store, const struct store_statement *st)
{
    int rc = sqlite3_prepare_v3(store->db, st->sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &store->stmt[st->which], NULL);
    return rc == SQLITE_OK ? WP_OK : store__fail(store, rc, "preparing a statement");
}

/* Resets and clears a cached statement, ready for its next use; prepares it first if it
 * is not yet. NULL when it cannot be prepared (store->errmsg says why): SQLite answers
 * SQLITE_MISUSE to binding or stepping a NULL statement, which the caller's error path
 * takes as a failure. */
sqlite3_stmt *store__stmt(struct store *store, enum store_stmt which)
{
    for (size_t g = 0; !store->stmt[which] && g < sizeof store_statement_groups
                                                     / sizeof store_statement_groups[0]; g++)
        for (const struct store_statement *st = store_statement_groups[g]; st->sql; st++)
            if (st->which == which) {
                store_prepare(store, st);
                break;
            }
    sqlite3_stmt *stmt = store->stmt[which];
    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
    return stmt;
}

void store__bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

const char *store__column_text(sqlite3_stmt *stmt, int column)
{
    const char *text = (const char *)sqlite3_column_text(stmt, column);
    return text ? text : "";
}

/* Steps through the rows of a statement, handing each to row until it says stop. */
enum wp_err store__each(struct store *store, sqlite3_stmt *stmt, const char *what,
                        enum wp_err (*row)(void *ctx, sqlite3_stmt *stmt), void *ctx)
{
    enum wp_err result = WP_OK;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if ((result = row(ctx, stmt)) != WP_OK)
            break;
    if (result == WP_OK && rc != SQLITE_DONE)
        result = store__fail(store, rc, what);
    sqlite3_reset(stmt);
    return result;
}

struct store_named_value_walk {
    enum wp_err (*fn)(void *ctx, const char *name, int64_t value);
    void *ctx;
};

static enum wp_err store_named_value_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_named_value_walk *w = ctx;
    return w->fn(w->ctx, store__column_text(stmt, 0), sqlite3_column_int64(stmt, 1));
}

enum wp_err store__each_named_value(struct store *store, sqlite3_stmt *stmt, const char *what,
                                    enum wp_err (*fn)(void *ctx, const char *name,
                                                      int64_t value),
                                    void *ctx)
{
    struct store_named_value_walk w = {fn, ctx};
    return store__each(store, stmt, what, store_named_value_row, &w);
}

/* Runs a statement that returns no rows. */
enum wp_err store__step_done(struct store *store, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    enum wp_err result = rc == SQLITE_DONE ? WP_OK : store__fail(store, rc, what);
    sqlite3_reset(stmt);
    return result;
}

static enum wp_err store_exec(struct store *store, const char *sql, const char *what)
{
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? WP_OK : store__fail(store, rc, what);
}

static enum wp_err store_read_version(struct store *store, int *version)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        enum wp_err err = store__fail(store, rc, "reading the schema version");
        sqlite3_finalize(stmt);
        return err;
    }
    *version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return WP_OK;
}

/* Brings the schema up to STORE_MIGRATION_COUNT in ONE transaction: a crash mid-way
 * leaves the database at its old version, and a reader (the CLI, while the daemon starts
 * on an older file or creates a new one) sees either the old version or the new one,
 * never a version in between. */
static enum wp_err store_migrate(struct store *store)
{
    int version = 0;
    enum wp_err rc = store_exec(store, "BEGIN IMMEDIATE", "starting the migrations");
    if (rc != WP_OK)
        return rc;
    if ((rc = store_read_version(store, &version)) != WP_OK)
        goto fail;
    if (version > STORE_MIGRATION_COUNT) {
        snprintf(store->errmsg, sizeof store->errmsg,
                 "database schema version %d is newer than this program knows (%d); "
                 "run a newer wardpulse-aggregator", version, STORE_MIGRATION_COUNT);
        rc = WP_ERR_DB;
        goto fail;
    }
    int from = version;
    for (; version < STORE_MIGRATION_COUNT; version++) {
        int n = version;
        if ((rc = store_exec(store, store_migrations[n], "migrating the schema")) != WP_OK
            || (n < (int)(sizeof store_migration_steps / sizeof store_migration_steps[0])
                && store_migration_steps[n] && (rc = store_migration_steps[n](store)) != WP_OK)
            || (n < (int)(sizeof store_migration_after / sizeof store_migration_after[0])
                && store_migration_after[n]
                && (rc = store_exec(store, store_migration_after[n], "migrating the schema"))
                       != WP_OK))
            goto fail;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    if ((rc = store_exec(store, sql, "setting the schema version")) != WP_OK
        || (rc = store_exec(store, "COMMIT", "committing the migrations")) != WP_OK)
        goto fail;
    for (int v = from + 1; v <= version; v++)
        wp_log(WP_LOG_NOTICE, "database schema migrated to version %d", v);
    store->schema_version = version;
    return WP_OK;
fail:
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

enum wp_err store_open(const char *path, struct store **out, char *err, size_t errlen)
{
    enum wp_err rc = WP_ERR_NOMEM;
    struct store *store = calloc(1, sizeof *store);
    *out = NULL;
    if (!store || !(store->path = strdup(path))) {
        free(store);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    store->lock_fd = -1;
    /* SQLite would open a file it may not write read-only without a word, and every
     * commit would then fail with the reports never acked: refuse at start instead. The
     * lock keeps a second aggregator off the same file (two writers would each ack what
     * the other stored). */
    if ((rc = wp_db_check_writable(path, err, errlen)) != WP_OK
        || (rc = wp_db_lock(path, STORE_LOCK_SUFFIX, &store->lock_fd, err, errlen)) != WP_OK)
        goto cleanup;
    int src = sqlite3_open_v2(path, &store->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (src != SQLITE_OK) {
        rc = store->db ? store__fail(store, src, "opening") : WP_ERR_NOMEM;
        snprintf(err, errlen, "%s: %s", path, store->db ? store->errmsg : "out of memory");
        goto cleanup;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, 5000);
    if (sqlite3_db_readonly(store->db, "main") == 1) {
        rc = WP_ERR_IO;
        snprintf(err, errlen, "the database %s can only be opened read-only", path);
        goto cleanup;
    }
    if ((rc = wp_db_identity_take(store->db, path, &store->identity, err, errlen)) != WP_OK)
        goto cleanup;
    /* journal_mode answers with a row; exec discards it. synchronous=FULL because the
     * ack tells the agent it may delete its copy. A 64 MB page cache (-65536 KiB): on a
     * database holding 60 days of 1,000 wards, +5-15 % reports/s (issue 13's
     * measurements). Checkpoints run on a thread of their own once the migrations are
     * done (store_checkpoint.c). */
    if ((rc = store_exec(store, "PRAGMA journal_mode = WAL", "enabling WAL")) != WP_OK
        || (rc = store_exec(store, "PRAGMA synchronous = FULL", "setting synchronous")) != WP_OK
        || (rc = store_exec(store, "PRAGMA cache_size = -65536", "setting the page cache"))
               != WP_OK
        || (rc = store_exec(store, "PRAGMA foreign_keys = ON", "enabling foreign keys"))
               != WP_OK
        || (rc = store_migrate(store)) != WP_OK
        || (rc = store__checkpointer_start(store)) != WP_OK) {
        snprintf(err, errlen, "%s: %s", path, store->errmsg);
        goto cleanup;
    }
    for (size_t g = 0; g < sizeof store_statement_groups / sizeof store_statement_groups[0]; g++)
        for (const struct store_statement *st = store_statement_groups[g]; st->sql; st++)
            if ((rc = store_prepare(store, st)) != WP_OK) {
                snprintf(err, errlen, "%s: %s", path, store->errmsg);
                goto cleanup;
            }
    *out = store;
    return WP_OK;

cleanup:
    store_close(&store);
    return rc;
}

void store_close(struct store **store)
{
    if (!store || !*store)
        return;
    struct store *s = *store;
    if (s->in_transaction)
        store_rollback(s);
    store__checkpointer_stop(s);
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    /* The last connection to close checkpoints the WAL into the main file. */
    if (sqlite3_close(s->db) != SQLITE_OK)
        wp_log(WP_LOG_WARNING, "closing the database: %s", sqlite3_errmsg(s->db));
    if (s->lock_fd >= 0)
        close(s->lock_fd);   /* after the close: the lock covers the last checkpoint */
    store__intern_forget(s);
    store__packed_free(&s->packed);
    free(s->packed_buf);
    free(s->path);
    free(s);
    *store = NULL;
}

void store_set_durable(struct store *store, bool durable)
{
    if (store_exec(store, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF",
                   "setting synchronous") != WP_OK)
        wp_log(WP_LOG_WARNING, "%s", store->errmsg);
}

int store_schema_version(const struct store *store)
{
    return store->schema_version;
}

const char *store_errmsg(const struct store *store)
{
    return store->errmsg;
}

bool store_replaced(const struct store *store)
{
    return store->replaced;
}

enum wp_err store_check_identity(struct store *store)
{
    if (store->replaced)
        return WP_ERR_REPLACED;
    enum wp_err rc = wp_db_identity_check(store->db, store->path, &store->identity,
                                          store->errmsg, sizeof store->errmsg);
    if (rc == WP_ERR_REPLACED) {
        store->replaced = true;
        wp_log(WP_LOG_ERR, "%s; nothing more is committed or acknowledged: stopping, so that "
               "a restart opens the file now at the path", store->errmsg);
    }
    return rc;
}

enum wp_err store_begin(struct store *store)
{
    if (store->replaced)
        return WP_ERR_REPLACED;
    enum wp_err rc = store_exec(store, "BEGIN IMMEDIATE", "starting a transaction");
    store->in_transaction = rc == WP_OK;
    return rc;
}

enum wp_err store_commit(struct store *store)
{
    /* Checked here, last before COMMIT, because after it the caller acks: a commit into a
     * file that no longer has the database's name would be acked and then lost. */
    enum wp_err rc = store_check_identity(store);
    if (rc != WP_OK)
        return rc;
    rc = store_exec(store, "COMMIT", "committing");
    /* A failed COMMIT may leave the transaction open (SQLITE_BUSY) or already rolled back
     * (I/O, full); the caller rolls back either way. */
    if (rc == WP_OK)
        store->in_transaction = false;
    return rc;
}

void store_rollback(struct store *store)
{
    if (sqlite3_get_autocommit(store->db) == 0) {
        int rc = sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            wp_log(WP_LOG_ERR, "rollback: %s", sqlite3_errmsg(store->db));
    }
    store->in_transaction = false;
    /* Ids given in the transaction are gone with it. */
    store__intern_forget(store);
}

sqlite3_stmt *store__stmt_texts(struct store *store, enum store_stmt which, const char *first,
                                const char *second)
{
    sqlite3_stmt *stmt = store__stmt(store, which);
    store__bind_text(stmt, 1, first);
    store__bind_text(stmt, 2, second);
    return stmt;
}

/* A cached statement whose parameters 1, 2, 3 are a report's identity. */
sqlite3_stmt *store__stmt_identity(struct store *store, enum store_stmt which,
                                         const char *ward, const char *stream, int64_t seq)
{
    sqlite3_stmt *stmt = store__stmt(store, which);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, seq);
    return stmt;
}

/* True (in *known) if (ward, stream, seq) is in reports or rejected. */
enum wp_err store__known(struct store *store, const char *ward, const char *stream,
                               int64_t seq, bool *known)
{
    sqlite3_stmt *stmt = store__stmt_identity(store, STMT_KNOWN, ward, stream, seq);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, "looking up a report");
    *known = rc == SQLITE_ROW;
    return WP_OK;
}
