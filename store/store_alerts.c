/* store_alerts.c — alerts and alert_events (contract in store_alerts.h). */
#include "store_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "timefmt.h"

/* Every walk reads the same columns (store_alert_row). */
#define STORE_ALERT_COLUMNS \
    "SELECT rule, scope, state, since_ms, payload, payload_state, rev, event_rev, " \
    "announced_rev FROM alerts "

const struct store_statement store__alert_statements[] = {
    {STMT_ALERT_GET,
     "SELECT state, since_ms, payload FROM alerts WHERE rule = ?1 AND scope = ?2"},
    {STMT_ALERT_INSERT,
     "INSERT INTO alerts (rule, scope, state, since_ms, payload, payload_state, rev, "
     "event_rev, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)"},
    /* ?7 = 1: the change is a transition, announced on events/alert too. */
    {STMT_ALERT_UPDATE,
     "UPDATE alerts SET state = ?3, since_ms = ?4, payload = ?5, payload_state = ?6, "
     "rev = rev + 1, event_rev = CASE WHEN ?7 THEN rev + 1 ELSE event_rev END, "
     "updated_ms = ?8 WHERE rule = ?1 AND scope = ?2"},
    {STMT_ALERT_SET_STATE,
     "UPDATE alerts SET state = ?3, updated_ms = ?4 WHERE rule = ?1 AND scope = ?2"},
    {STMT_ALERT_EVENT,
     "INSERT INTO alert_events (rule, scope, state, severity, at_ms, at, payload) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {STMT_ALERT_UNANNOUNCED,
     STORE_ALERT_COLUMNS "WHERE announced_rev < rev"},
    {STMT_ALERT_ANNOUNCED,
     "UPDATE alerts SET announced_rev = ?3, "
     "announced_ms = CASE WHEN ?4 THEN ?5 ELSE announced_ms END "
     "WHERE rule = ?1 AND scope = ?2 AND announced_rev < ?3"},
    {STMT_ALERT_REPEATS,
     STORE_ALERT_COLUMNS "WHERE state = 'firing' AND payload_state = 'firing' "
     "AND announced_rev = rev AND announced_ms <= ?1"},
    {STMT_ALERT_REPEATED,
     "UPDATE alerts SET announced_ms = ?3 WHERE rule = ?1 AND scope = ?2"},
    {STMT_ALERT_NEXT_REPEAT,
     "SELECT MIN(announced_ms) FROM alerts WHERE state = 'firing' "
     "AND payload_state = 'firing' AND announced_rev = rev"},
    {STMT_ALERT_ACTIVE,
     STORE_ALERT_COLUMNS "WHERE state <> 'resolved'"},
    {STMT_ALERT_FIRING_COUNT,
     "SELECT COUNT(*) FROM alerts WHERE state = 'firing'"},
    {STMT_ALERT_RETAINED,
     STORE_ALERT_COLUMNS},
    {STMT_ALERT_EVENTS,
     "SELECT rule, scope, state, severity, at, payload FROM alert_events ORDER BY id"},
    {STMT_COUNT, NULL},
};

enum wp_err store_alert_get(struct store *store, const char *rule, const char *scope,
                            bool *found, char *state, size_t state_size, int64_t *since_ms,
                            char **payload)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_GET, rule, scope);
    int rc = sqlite3_step(stmt);
    enum wp_err err = WP_OK;
    *found = rc == SQLITE_ROW;
    *payload = NULL;
    *since_ms = 0;
    state[0] = '\0';
    if (rc == SQLITE_ROW) {
        snprintf(state, state_size, "%s", store__column_text(stmt, 0));
        *since_ms = sqlite3_column_int64(stmt, 1);
        const char *p = (const char *)sqlite3_column_text(stmt, 2);
        if (p && !(*payload = strdup(p)))
            err = WP_ERR_NOMEM;
    } else if (rc != SQLITE_DONE) {
        err = store__fail(store, rc, "reading an alert");
    }
    sqlite3_reset(stmt);
    return err;
}

/* Parameters 3 … 6 and 8 of an insert or an update. */
static void store_alert_bind_state(sqlite3_stmt *stmt, const char *state, int64_t since_ms,
                                   const char *payload, const char *payload_state,
                                   int64_t now_ms)
{
    store__bind_text(stmt, 3, state);
    sqlite3_bind_int64(stmt, 4, since_ms);
    store__bind_text(stmt, 5, payload);
    store__bind_text(stmt, 6, payload_state);
    sqlite3_bind_int64(stmt, 8, now_ms);
}

enum wp_err store_alert_insert(struct store *store, const char *rule, const char *scope,
                               const char *state, int64_t since_ms, const char *payload,
                               const char *payload_state, int64_t now_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_INSERT, rule, scope);
    store_alert_bind_state(stmt, state, since_ms, payload, payload_state, now_ms);
    sqlite3_bind_int64(stmt, 7, payload ? 1 : 0);
    return store__step_done(store, stmt, "writing an alert");
}

enum wp_err store_alert_update(struct store *store, const char *rule, const char *scope,
                               const char *state, int64_t since_ms, const char *payload,
                               const char *payload_state, bool transition, int64_t now_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_UPDATE, rule, scope);
    store_alert_bind_state(stmt, state, since_ms, payload, payload_state, now_ms);
    sqlite3_bind_int(stmt, 7, transition);
    return store__step_done(store, stmt, "writing an alert");
}

enum wp_err store_alert_set_state(struct store *store, const char *rule, const char *scope,
                                  const char *state, int64_t now_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_SET_STATE, rule, scope);
    store__bind_text(stmt, 3, state);
    sqlite3_bind_int64(stmt, 4, now_ms);
    return store__step_done(store, stmt, "setting an alert state");
}

enum wp_err store_alert_add_event(struct store *store, const char *rule, const char *scope,
                                  const char *state, const char *severity, int64_t at_ms,
                                  const char *payload)
{
    char at[40];
    wp_datetime_format_local(at_ms, at, sizeof at);
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_EVENT, rule, scope);
    store__bind_text(stmt, 3, state);
    store__bind_text(stmt, 4, severity);
    sqlite3_bind_int64(stmt, 5, at_ms);
    sqlite3_bind_text(stmt, 6, at, -1, SQLITE_TRANSIENT);
    store__bind_text(stmt, 7, payload);
    return store__step_done(store, stmt, "recording an alert event");
}

struct store_alert_walk {
    enum wp_err (*fn)(void *ctx, const struct store_alert *alert);
    void *ctx;
};

static enum wp_err store_alert_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_alert_walk *w = ctx;
    struct store_alert a = {
        .rule = store__column_text(stmt, 0),
        .scope = store__column_text(stmt, 1),
        .state = store__column_text(stmt, 2),
        .since_ms = sqlite3_column_int64(stmt, 3),
        .payload = (const char *)sqlite3_column_text(stmt, 4),
        .payload_state = (const char *)sqlite3_column_text(stmt, 5),
        .rev = sqlite3_column_int64(stmt, 6),
        .event_rev = sqlite3_column_int64(stmt, 7),
        .announced_rev = sqlite3_column_int64(stmt, 8),
    };
    return w->fn(w->ctx, &a);
}

enum wp_err store_alert_each(struct store *store, enum store_alert_filter filter,
                             enum wp_err (*fn)(void *ctx, const struct store_alert *alert),
                             void *ctx)
{
    static const enum store_stmt which[] = {
        [STORE_ALERTS_ALL] = STMT_ALERT_RETAINED,
        [STORE_ALERTS_UNANNOUNCED] = STMT_ALERT_UNANNOUNCED,
        [STORE_ALERTS_ACTIVE] = STMT_ALERT_ACTIVE,
    };
    struct store_alert_walk w = {fn, ctx};
    return store__each(store, store__stmt(store, which[filter]), "listing alerts",
                       store_alert_row, &w);
}

enum wp_err store_alert_each_repeat_due(struct store *store, int64_t announced_before_ms,
                                        enum wp_err (*fn)(void *ctx,
                                                          const struct store_alert *alert),
                                        void *ctx)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_ALERT_REPEATS);
    sqlite3_bind_int64(stmt, 1, announced_before_ms);
    struct store_alert_walk w = {fn, ctx};
    return store__each(store, stmt, "listing repeats", store_alert_row, &w);
}

/* A statement of one integer row: *found false when it is NULL. */
static enum wp_err store_alert_scalar(struct store *store, enum store_stmt which,
                                      const char *what, bool *found, int64_t *value)
{
    sqlite3_stmt *stmt = store__stmt(store, which);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL;
    *value = *found ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, what);
}

enum wp_err store_alert_first_announced(struct store *store, bool *found,
                                        int64_t *announced_ms)
{
    return store_alert_scalar(store, STMT_ALERT_NEXT_REPEAT, "finding the next repeat", found,
                              announced_ms);
}

enum wp_err store_alert_announced(struct store *store, const char *rule, const char *scope,
                                  int64_t rev, bool transition, int64_t now_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_ANNOUNCED, rule, scope);
    sqlite3_bind_int64(stmt, 3, rev);
    sqlite3_bind_int(stmt, 4, transition);
    sqlite3_bind_int64(stmt, 5, now_ms);
    return store__step_done(store, stmt, "recording an announcement");
}

enum wp_err store_alert_repeated(struct store *store, const char *rule, const char *scope,
                                 int64_t now_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_ALERT_REPEATED, rule, scope);
    sqlite3_bind_int64(stmt, 3, now_ms);
    return store__step_done(store, stmt, "recording a repeat");
}

enum wp_err store_alert_firing_count(struct store *store, size_t *count)
{
    bool found;
    int64_t n;
    enum wp_err err = store_alert_scalar(store, STMT_ALERT_FIRING_COUNT, "counting alerts",
                                         &found, &n);
    *count = (size_t)n;
    return err;
}

struct store_alert_event_walk {
    enum wp_err (*fn)(void *ctx, const struct store_alert_event *event);
    void *ctx;
};

static enum wp_err store_alert_event_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_alert_event_walk *w = ctx;
    struct store_alert_event ev = {
        store__column_text(stmt, 0), store__column_text(stmt, 1), store__column_text(stmt, 2),
        store__column_text(stmt, 3), store__column_text(stmt, 4), store__column_text(stmt, 5),
    };
    return w->fn(w->ctx, &ev);
}

enum wp_err store_alert_each_event(struct store *store,
                                   enum wp_err (*fn)(void *ctx,
                                                     const struct store_alert_event *event),
                                   void *ctx)
{
    struct store_alert_event_walk w = {fn, ctx};
    return store__each(store, store__stmt(store, STMT_ALERT_EVENTS), "listing alert events",
                       store_alert_event_row, &w);
}
