/* schedule_read.c — reads of the reporting rates for the CLI (store_read.h). */
#include "read_private.h"

struct schedule_read_call {
    int (*fn)(void *ctx, const char *unit, const struct store_rates *rates);
    void *ctx;
};

static int schedule_read_row(void *ctx, sqlite3_stmt *stmt)
{
    struct schedule_read_call *c = ctx;
    struct store_rates rates = {sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2),
                                sqlite3_column_int64(stmt, 3)};
    return c->fn(c->ctx, store__read_text(stmt, 0), &rates);
}

enum wp_err store_read_rates(struct store *store, const char *first, const char *last,
                             const char *week,
                             int (*fn)(void *ctx, const char *unit,
                                       const struct store_rates *rates),
                             void *ctx)
{
    struct schedule_read_call c = {fn, ctx};
    if (!week)
        return store__read_rows(store, store__read_prepare(store,
            "SELECT ward, SUM(expected), SUM(received), SUM(on_time) FROM reporting_rates "
            "GROUP BY ward"), schedule_read_row, &c);
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT ward, COUNT(*), COUNT(complete_ms), SUM(on_time) FROM schedule_status "
        "WHERE period BETWEEN ?1 AND ?2 OR period = ?3 GROUP BY ward");
    if (stmt) {
        sqlite3_bind_text(stmt, 1, first, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, last, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, week, -1, SQLITE_STATIC);
    }
    return store__read_rows(store, stmt, schedule_read_row, &c);
}
