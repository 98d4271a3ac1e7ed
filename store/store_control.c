/* store_control.c — control_log and silences (contract in store_control.h). */
#include "store_control.h"

#include <stdio.h>

#include "store_private.h"
#include "timefmt.h"

const struct store_statement store__control_statements[] = {
    {STMT_CONTROL_LOG,
     "INSERT INTO control_log (received_ms, received_at, topic, requested_by, payload, "
     "outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {STMT_SILENCE_ADD,
     "INSERT INTO silences (rule, scope, until_ms, requested_by, comment, created_ms) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {STMT_SILENCE_END,
     "UPDATE silences SET ended_ms = ?3, ended_by = ?2 "
     "WHERE id = ?1 AND ended_ms IS NULL AND until_ms > ?3"},
    {STMT_SILENCE_ACTIVE,
     "SELECT id, rule, scope, until_ms, created_ms, requested_by, comment FROM silences "
     "WHERE ended_ms IS NULL AND until_ms > ?1 ORDER BY id"},
    {STMT_COUNT, NULL},
};

enum wp_err store_control_log(struct store *store, int64_t received_ms, const char *topic,
                              const char *by, const void *payload, size_t len,
                              const char *outcome)
{
    char at[40];
    wp_datetime_format_local(received_ms, at, sizeof at);
    sqlite3_stmt *stmt = store__stmt(store, STMT_CONTROL_LOG);
    sqlite3_bind_int64(stmt, 1, received_ms);
    sqlite3_bind_text(stmt, 2, at, -1, SQLITE_TRANSIENT);
    store__bind_text(stmt, 3, topic);
    store__bind_text(stmt, 4, by);
    sqlite3_bind_blob64(stmt, 5, len ? payload : "", len, SQLITE_STATIC);
    store__bind_text(stmt, 6, outcome);
    return store__step_done(store, stmt, "recording a command");
}

enum wp_err store_silence_add(struct store *store, const char *rule, const char *scope,
                              int64_t until_ms, const char *by, const char *comment,
                              int64_t created_ms, int64_t *id)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_SILENCE_ADD, rule, scope);
    sqlite3_bind_int64(stmt, 3, until_ms);
    store__bind_text(stmt, 4, by);
    store__bind_text(stmt, 5, comment);
    sqlite3_bind_int64(stmt, 6, created_ms);
    enum wp_err rc = store__step_done(store, stmt, "adding a silence");
    *id = rc == WP_OK ? sqlite3_last_insert_rowid(store->db) : 0;
    return rc;
}

enum wp_err store_silence_end(struct store *store, int64_t id, const char *by, int64_t now_ms,
                              bool *ended)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_SILENCE_END);
    sqlite3_bind_int64(stmt, 1, id);
    store__bind_text(stmt, 2, by);
    sqlite3_bind_int64(stmt, 3, now_ms);
    enum wp_err rc = store__step_done(store, stmt, "ending a silence");
    *ended = rc == WP_OK && sqlite3_changes(store->db) > 0;
    return rc;
}

struct store_silence_walk {
    enum wp_err (*fn)(void *ctx, const struct store_silence *s);
    void *ctx;
};

static enum wp_err store_silence_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_silence_walk *w = ctx;
    struct store_silence s = {
        .id = sqlite3_column_int64(stmt, 0),
        .rule = (const char *)sqlite3_column_text(stmt, 1),
        .scope = (const char *)sqlite3_column_text(stmt, 2),
        .until_ms = sqlite3_column_int64(stmt, 3),
        .created_ms = sqlite3_column_int64(stmt, 4),
        .by = store__column_text(stmt, 5),
        .comment = (const char *)sqlite3_column_text(stmt, 6),
    };
    return w->fn(w->ctx, &s);
}

enum wp_err store_silence_each_active(struct store *store, int64_t now_ms,
                                      enum wp_err (*fn)(void *ctx,
                                                        const struct store_silence *s),
                                      void *ctx)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_SILENCE_ACTIVE);
    sqlite3_bind_int64(stmt, 1, now_ms);
    struct store_silence_walk w = {fn, ctx};
    return store__each(store, stmt, "listing silences", store_silence_row, &w);
}
