/* store_rollup.c — rollup_sent and rollup_files (contract in store_rollup.h). */
#include "store_rollup.h"

#include "store_private.h"
#include "timefmt.h"

const struct store_statement store__rollup_statements[] = {
    {STMT_ROLLUP_SENT,
     "SELECT period, value FROM rollup_sent WHERE unit = ?1 AND indicator = ?2"},
    {STMT_ROLLUP_SENT_SET,
     "INSERT INTO rollup_sent (unit, period, indicator, value, file_id) "
     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (unit, indicator, period) "
     "DO UPDATE SET value = excluded.value, file_id = excluded.file_id"},
    {STMT_ROLLUP_NEXT_FILE_ID,
     "SELECT COALESCE(MAX(id), 0) + 1 FROM rollup_files"},
    {STMT_ROLLUP_FILE_ADD,
     "INSERT INTO rollup_files (id, unit, name, written_ms, written_at, reports) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {STMT_COUNT, NULL},
};

enum wp_err store_rollup_each_sent(struct store *store, const char *unit, const char *indicator,
                                   enum wp_err (*fn)(void *ctx, const char *period,
                                                     int64_t value),
                                   void *ctx)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ROLLUP_SENT, unit, indicator);
    return store__each_named_value(store, stmt, "reading rollup_sent", fn, ctx);
}

enum wp_err store_rollup_set_sent(struct store *store, const char *unit, const char *indicator,
                                  const char *period, int64_t value, int64_t file_id)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ROLLUP_SENT_SET, unit, period);
    store__bind_text(stmt, 3, indicator);
    sqlite3_bind_int64(stmt, 4, value);
    sqlite3_bind_int64(stmt, 5, file_id);
    return store__step_done(store, stmt, "writing rollup_sent");
}

enum wp_err store_rollup_next_file_id(struct store *store, int64_t *id)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_ROLLUP_NEXT_FILE_ID);
    int rc = sqlite3_step(stmt);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, "numbering a file");
}

enum wp_err store_rollup_add_file(struct store *store, int64_t id, const char *unit,
                                  const char *name, int64_t written_ms, size_t reports)
{
    char at[40];
    wp_datetime_format_local(written_ms, at, sizeof at);
    sqlite3_stmt *stmt = store__stmt(store, STMT_ROLLUP_FILE_ADD);
    sqlite3_bind_int64(stmt, 1, id);
    store__bind_text(stmt, 2, unit);
    store__bind_text(stmt, 3, name);
    sqlite3_bind_int64(stmt, 4, written_ms);
    sqlite3_bind_text(stmt, 5, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 6, (sqlite3_int64)reports);
    return store__step_done(store, stmt, "writing rollup_files");
}
