/* store_schedule.c — schedule_status and the arrival of a period's figures (contract in
 * store_schedule.h). */
#include "store_schedule.h"

#include "store_private.h"
#include "timefmt.h"

const struct store_statement store__schedule_statements[] = {
    {STMT_SCHEDULE_STATUS,
     "SELECT period, complete_ms, received_ms FROM schedule_status "
     "WHERE rule = ?1 AND ward = ?2"},
    {STMT_SCHEDULE_STATUS_SET,
     "INSERT INTO schedule_status (rule, ward, period, due_ms, complete_ms, on_time, "
     "received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
     "ON CONFLICT (rule, ward, period) DO UPDATE SET "
     "due_ms = excluded.due_ms, complete_ms = excluded.complete_ms, "
     "on_time = excluded.on_time, received_ms = excluded.received_ms"},
    {STMT_SCHEDULE_CLEAR,
     "DELETE FROM schedule_status"},
    {STMT_COUNT, NULL},
};

/* Either walk: a name and two instants per row. */
struct store_schedule_walk {
    enum wp_err (*fn)(void *ctx, const char *name, int64_t first_ms, int64_t second_ms);
    void *ctx;
    bool status;   /* schedule_status: NULLs read as store_schedule_each_status says */
};

static enum wp_err store_schedule_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_schedule_walk *w = ctx;
    int64_t first = sqlite3_column_int64(stmt, 1);   /* NULL reads 0 */
    int64_t second = w->status && sqlite3_column_type(stmt, 2) == SQLITE_NULL
                         ? first : sqlite3_column_int64(stmt, 2);
    return w->fn(w->ctx, store__column_text(stmt, 0), first, second);
}

enum wp_err store_schedule_each_status(struct store *store, const char *rule, const char *unit,
                                       enum wp_err (*fn)(void *ctx, const char *period,
                                                         int64_t complete_ms,
                                                         int64_t received_ms),
                                       void *ctx)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_SCHEDULE_STATUS, rule, unit);
    struct store_schedule_walk w = {fn, ctx, true};
    return store__each(store, stmt, "reading schedule_status", store_schedule_row, &w);
}

enum wp_err store_schedule_set_status(struct store *store, const char *rule, const char *unit,
                                      const char *period, int64_t due_ms, int64_t complete_ms,
                                      int64_t received_ms)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_SCHEDULE_STATUS_SET, rule, unit);
    store__bind_text(stmt, 3, period);
    sqlite3_bind_int64(stmt, 4, due_ms);
    if (complete_ms > 0)
        sqlite3_bind_int64(stmt, 5, complete_ms);
    sqlite3_bind_int(stmt, 6, complete_ms > 0 && complete_ms <= due_ms);
    if (received_ms > 0)
        sqlite3_bind_int64(stmt, 7, received_ms);
    return store__step_done(store, stmt, "writing schedule_status");
}

enum wp_err store_schedule_each_arrival(struct store *store, const char *unit,
                                        const char *period,
                                        enum wp_err (*fn)(void *ctx, const char *indicator,
                                                          int64_t judged_ms,
                                                          int64_t received_ms),
                                        void *ctx)
{
    int64_t first_day = 0;
    int days = 1;
    char first[16] = "", last[16] = "";
    if (wp_period_parse(period, &first_day, &days)) {
        wp_date_format(first_day, first, sizeof first);
        wp_date_format(first_day + days - 1, last, sizeof last);
    }
    /* A weekly period is also reported by the figures of its days, a day's only by its
     * own. */
    return store__values_each_arrival(store, unit, period, first, last, fn, ctx);
}

enum wp_err store_schedule_clear(struct store *store)
{
    return store__step_done(store, store__stmt(store, STMT_SCHEDULE_CLEAR),
                            "clearing schedule_status");
}
