/* alerts_read.c — reads of alerts and their events for the CLI (store_read.h). */
#include <stdio.h>

#include "read_private.h"

struct alerts_read_counts {
    int (*fn)(void *ctx, const char *scope, int firing, int critical);
    void *ctx;
};

static int alerts_read_count_row(void *ctx, sqlite3_stmt *stmt)
{
    struct alerts_read_counts *c = ctx;
    return c->fn(c->ctx, store__read_text(stmt, 0), sqlite3_column_int(stmt, 1),
                 sqlite3_column_int(stmt, 2));
}

enum wp_err store_read_firing_counts(struct store *store,
                                     int (*fn)(void *ctx, const char *scope, int firing,
                                               int critical),
                                     void *ctx)
{
    struct alerts_read_counts c = {fn, ctx};
    return store__read_rows(store, store__read_prepare(store,
        "SELECT scope, COUNT(*), SUM(json_extract(payload, '$.severity') = 'critical') "
        "FROM alerts WHERE state = 'firing' GROUP BY scope"), alerts_read_count_row, &c);
}

enum wp_err store_read_firing_at(struct store *store, int64_t at_ms, store_read_number_fn fn,
                                 void *ctx)
{
    /* Firing at at_ms: the last transition dated before it was a firing. */
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT scope, COUNT(*) FROM (SELECT DISTINCT rule, scope FROM alert_events "
        "WHERE at_ms < ?1) AS k WHERE (SELECT state FROM alert_events e WHERE e.rule = k.rule "
        "AND e.scope = k.scope AND e.at_ms < ?1 ORDER BY at_ms DESC, id DESC LIMIT 1) = "
        "'firing' GROUP BY scope");
    if (stmt)
        sqlite3_bind_int64(stmt, 1, at_ms);
    return store__read_numbers(store, stmt, fn, ctx);
}

struct alerts_read_list {
    int (*fn)(void *ctx, const struct store_alert *alert);
    void *ctx;
};

static int alerts_read_list_row(void *ctx, sqlite3_stmt *stmt)
{
    struct alerts_read_list *c = ctx;
    struct store_alert a = {store__read_text(stmt, 0), store__read_text(stmt, 1),
                            sqlite3_column_int64(stmt, 2), store__read_text(stmt, 3),
                            store__read_text(stmt, 4), store__read_text(stmt, 5),
                            store__read_text(stmt, 6), store__read_text(stmt, 7),
                            store__read_text(stmt, 8)};
    return c->fn(c->ctx, &a);
}

enum wp_err store_read_alerts(struct store *store, const char *state, int64_t since_ms,
                              bool vi, int (*fn)(void *ctx, const struct store_alert *alert),
                              void *ctx)
{
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT rule, scope, since_ms, json_extract(payload, '$.severity'), "
        "json_extract(payload, '$.district'), json_extract(payload, ?3), "
        "json_extract(payload, '$.kind'), json_extract(payload, '$.acknowledged.by'), "
        "json_extract(payload, '$.silenced.until') FROM alerts "
        "WHERE payload IS NOT NULL AND state = ?1 AND since_ms >= ?2 "
        "ORDER BY CASE json_extract(payload, '$.severity') WHEN 'critical' THEN 0 "
        "WHEN 'warning' THEN 1 ELSE 2 END, since_ms DESC, scope = 'district' DESC, scope, rule");
    if (stmt) {
        sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, since_ms);
        sqlite3_bind_text(stmt, 3, vi ? "$.summary.vi" : "$.summary.en", -1, SQLITE_STATIC);
    }
    struct alerts_read_list c = {fn, ctx};
    return store__read_rows(store, stmt, alerts_read_list_row, &c);
}

struct alerts_read_events {
    int (*fn)(void *ctx, const struct store_alert_event *e);
    void *ctx;
};

static int alerts_read_event_row(void *ctx, sqlite3_stmt *stmt)
{
    struct alerts_read_events *c = ctx;
    struct store_alert_event e = {sqlite3_column_int64(stmt, 0), store__read_text(stmt, 1),
                                  store__read_text(stmt, 2), store__read_text(stmt, 3),
                                  store__read_text(stmt, 4), store__read_text(stmt, 5)};
    return c->fn(c->ctx, &e);
}

enum wp_err store_read_alert_events(struct store *store, int64_t from_ms, int64_t to_ms,
                                    int (*fn)(void *ctx, const struct store_alert_event *e),
                                    void *ctx)
{
    sqlite3_stmt *stmt = store__read_prepare(store,
        "SELECT at_ms, rule, scope, state, severity, json_extract(payload, '$.summary.vi') "
        "FROM alert_events WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id");
    if (stmt) {
        sqlite3_bind_int64(stmt, 1, from_ms);
        sqlite3_bind_int64(stmt, 2, to_ms);
    }
    struct alerts_read_events c = {fn, ctx};
    return store__read_rows(store, stmt, alerts_read_event_row, &c);
}

struct alerts_read_code {
    char *code;
    size_t size;
};

static int alerts_read_code_row(void *ctx, sqlite3_stmt *stmt)
{
    struct alerts_read_code *c = ctx;
    snprintf(c->code, c->size, "%s", store__read_text(stmt, 0));
    return 0;
}

enum wp_err store_read_served_code(struct store *store, char *code, size_t size)
{
    struct alerts_read_code c = {code, size};
    if (size > 0)
        code[0] = '\0';
    return store__read_rows(store, store__read_prepare(store,
        "SELECT json_extract(payload, '$.district') FROM alerts WHERE payload IS NOT NULL "
        "UNION ALL SELECT json_extract(payload, '$.district') FROM levels LIMIT 1"),
        alerts_read_code_row, &c);
}
