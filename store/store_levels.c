/* store_levels.c — levels and level_published (contract in store_levels.h). */
#include "store_levels.h"

#include <string.h>

#include "store_private.h"

const struct store_statement store__level_statements[] = {
    {STMT_LEVEL_WEEK,
     "INSERT INTO levels (rule, scope, week, level, version, payload) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (rule, scope, week) DO UPDATE "
     "SET level = excluded.level, version = excluded.version, payload = excluded.payload"},
    {STMT_LEVEL_PUBLISHED_GET,
     "SELECT payload FROM level_published WHERE rule = ?1 AND scope = ?2"},
    {STMT_LEVEL_PUBLISHED_SET,
     "INSERT INTO level_published (rule, scope, payload, announced) "
     "VALUES (?1, ?2, ?3, 0) ON CONFLICT (rule, scope) DO UPDATE "
     "SET payload = excluded.payload, announced = 0"},
    {STMT_LEVEL_UNANNOUNCED,
     "SELECT scope, payload, announced FROM level_published WHERE announced = 0"},
    {STMT_LEVEL_ANNOUNCED,
     "UPDATE level_published SET announced = 1 WHERE scope = ?1 AND payload = ?2"},
    {STMT_LEVEL_RETAINED,
     "SELECT scope, payload, announced FROM level_published"},
    {STMT_COUNT, NULL},
};

enum wp_err store_level_put_week(struct store *store, const char *rule, const char *scope,
                                 const char *week, int level, const char *version,
                                 const char *payload)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_LEVEL_WEEK, rule, scope);
    store__bind_text(stmt, 3, week);
    sqlite3_bind_int(stmt, 4, level);
    store__bind_text(stmt, 5, version);
    store__bind_text(stmt, 6, payload);
    return store__step_done(store, stmt, "keeping a level");
}

enum wp_err store_level_publish(struct store *store, const char *rule, const char *scope,
                                const char *payload, bool *changed)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_LEVEL_PUBLISHED_GET, rule, scope);
    int rc = sqlite3_step(stmt);
    bool same = rc == SQLITE_ROW && strcmp(store__column_text(stmt, 0), payload) == 0;
    sqlite3_reset(stmt);
    *changed = false;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, "reading a published level");
    if (same)
        return WP_OK;
    stmt = store__stmt_texts(store, STMT_LEVEL_PUBLISHED_SET, rule, scope);
    store__bind_text(stmt, 3, payload);
    enum wp_err err = store__step_done(store, stmt, "publishing a level");
    *changed = err == WP_OK;
    return err;
}

enum wp_err store_level_announced(struct store *store, const char *scope, const char *payload)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_LEVEL_ANNOUNCED, scope, payload);
    return store__step_done(store, stmt, "recording a level announced");
}

struct store_level_walk {
    void (*fn)(void *ctx, const char *scope, const char *payload, bool announced);
    void *ctx;
};

static enum wp_err store_level_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_level_walk *w = ctx;
    w->fn(w->ctx, store__column_text(stmt, 0), store__column_text(stmt, 1),
          sqlite3_column_int(stmt, 2) != 0);
    return WP_OK;
}

enum wp_err store_level_each_published(struct store *store, bool unannounced_only,
                                       void (*fn)(void *ctx, const char *scope,
                                                  const char *payload, bool announced),
                                       void *ctx)
{
    sqlite3_stmt *stmt = store__stmt(store, unannounced_only ? STMT_LEVEL_UNANNOUNCED
                                                             : STMT_LEVEL_RETAINED);
    struct store_level_walk w = {fn, ctx};
    return store__each(store, stmt, "listing published levels", store_level_row, &w);
}
