/* levels_read.c — reads of the epidemic levels for the CLI (store_read.h). */
#include "read_private.h"

struct levels_read_last {
    int (*fn)(void *ctx, const struct store_level_last *last);
    void *ctx;
};

static int levels_read_last_row(void *ctx, sqlite3_stmt *stmt)
{
    struct levels_read_last *c = ctx;
    struct store_level_last last = {
        .scope = store__read_text(stmt, 0),
        .level = sqlite3_column_int(stmt, 1),
        .name = sqlite3_column_type(stmt, 2) == SQLITE_TEXT ? store__read_text(stmt, 2) : NULL,
        .week = store__read_text(stmt, 3),
        .incomplete = sqlite3_column_type(stmt, 4) != SQLITE_NULL
                      && sqlite3_column_int(stmt, 4) == 0,
    };
    return c->fn(c->ctx, &last);
}

enum wp_err store_read_last_levels(struct store *store, const char *week,
                                   int (*fn)(void *ctx, const struct store_level_last *last),
                                   void *ctx)
{
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT scope, level, json_extract(payload, '$.name'), week, "
        "json_extract(payload, '$.complete') FROM levels l "
        "WHERE week = (SELECT MAX(week) FROM levels m WHERE m.rule = l.rule "
        "AND m.scope = l.scope AND m.week < ?1)");
    if (stmt)
        sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
    struct levels_read_last c = {fn, ctx};
    return store__read_rows(store, stmt, levels_read_last_row, &c);
}

enum wp_err store_read_week_levels(struct store *store, const char *week,
                                   store_read_number_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT scope, MAX(level) FROM levels WHERE week = ?1 GROUP BY scope");
    if (stmt)
        sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
    return store__read_numbers(store, stmt, fn, ctx);
}

struct levels_read_changes {
    int (*fn)(void *ctx, const struct store_level_change *change);
    void *ctx;
};

static int levels_read_change_row(void *ctx, sqlite3_stmt *stmt)
{
    struct levels_read_changes *c = ctx;
    struct store_level_change x = {
        .scope = store__read_text(stmt, 0),
        .week = store__read_text(stmt, 1),
        .level = sqlite3_column_int(stmt, 2),
        .has_previous = sqlite3_column_type(stmt, 3) != SQLITE_NULL,
        .previous = sqlite3_column_int(stmt, 3),
        .incomplete = sqlite3_column_type(stmt, 4) != SQLITE_NULL
                      && sqlite3_column_int(stmt, 4) == 0,
        .missing_days = sqlite3_column_int(stmt, 5),
        .since = store__read_text(stmt, 6),
        .district = store__read_text(stmt, 7),
    };
    return c->fn(c->ctx, &x);
}

enum wp_err store_read_level_changes(struct store *store,
                                     int (*fn)(void *ctx, const struct store_level_change *c),
                                     void *ctx)
{
    struct levels_read_changes c = {fn, ctx};
    return store__read_rows(store, store__read_prepare(store,
        "SELECT scope, week, level, json_extract(payload, '$.previous_level'), "
        "json_extract(payload, '$.complete'), json_extract(payload, '$.missing_days'), "
        "json_extract(payload, '$.since'), json_extract(payload, '$.district') FROM levels "
        "WHERE json_extract(payload, '$.complete') = 0 "
        "OR json_extract(payload, '$.previous_level') <> level "
        "ORDER BY week DESC, scope = 'district' DESC, scope"), levels_read_change_row, &c);
}
