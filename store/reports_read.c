/* reports_read.c — reads of reports, values and rejections for the CLI (store_read.h). */
#include <stdbool.h>
#include <stdio.h>

#include "read_private.h"

struct reports_read_units {
    int (*fn)(void *ctx, const char *unit);
    void *ctx;
};

static int reports_read_unit(void *ctx, sqlite3_stmt *stmt)
{
    struct reports_read_units *c = ctx;
    return c->fn(c->ctx, store__read_text(stmt, 0));
}

enum wp_err store_read_units(struct store *store, int (*fn)(void *ctx, const char *unit),
                             void *ctx)
{
    struct reports_read_units c = {fn, ctx};
    return store__read_rows(store, store__read_prepare(store,
        "SELECT ward FROM reports WHERE length(ward) = 5 UNION "
        "SELECT ward FROM schedule_status UNION "
        "SELECT scope FROM alerts WHERE scope <> 'district' UNION "
        "SELECT scope FROM levels WHERE scope <> 'district' ORDER BY 1"),
        reports_read_unit, &c);
}

enum wp_err store_read_last_reports(struct store *store, store_read_number_fn fn, void *ctx)
{
    return store__read_numbers(store, store__read_prepare(store,
        "SELECT ward, MAX(received_ms) FROM reports GROUP BY ward ORDER BY ward"), fn, ctx);
}

/* ---- export ------------------------------------------------------------------------- */

/* received_at: when the report reached the aggregator; committed_at: when the ward's
 * agent committed it (empty from older agents), the time timeliness is judged from. */
static const struct store_column reports_read_value_columns[] = {
    {"ward", false}, {"period", false}, {"indicator", false}, {"value", true},
    {"stream", false}, {"seq", true}, {"received_at", false}, {"committed_at", false},
};
/* A period is selected when it overlaps [from, to]: a week that straddles `from` is in.
 * Every value of every report is read from the report as received (reports.payload, a
 * JSON object whose "values" maps indicator → integer); with --current only those
 * values_in_force names the report of (reports_read_export_row). The report's id is a
 * last column, not exported. */
static const char reports_read_values_sql[] =
    "SELECT r.ward, r.period, j.key, j.value, r.stream, r.seq, r.received_at, "
    "r.committed_at, r.id FROM reports r, json_each(r.payload, '$.values') j "
    "WHERE (?1 IS NULL OR r.period_last >= ?1) AND (?2 IS NULL OR r.period_first <= ?2) "
    "AND (?3 IS NULL OR r.ward = ?3) AND ?4 = ?4 "
    "ORDER BY r.ward, r.period_first, r.period, j.key, r.id";

static const struct store_column reports_read_rejected_columns[] = {
    {"received_at", false}, {"topic", false}, {"ward", false}, {"stream", false},
    {"seq", true}, {"reason", false},
};
/* For rejections --from/--to select by the local day they were received. */
static const char reports_read_rejected_sql[] =
    "SELECT received_at, topic, ward, stream, seq, reason FROM rejected "
    "WHERE (?1 IS NULL OR substr(received_at, 1, 10) >= ?1) "
    "AND (?2 IS NULL OR substr(received_at, 1, 10) <= ?2) "
    "AND (?3 IS NULL OR ward = ?3) AND ?4 = ?4 "
    "ORDER BY id";

/* The audit trail: every message as received, accepted or not, in arrival order; the
 * payload last, as bytes. */
static const struct store_column reports_read_raw_columns[] = {
    {"received_at", false}, {"status", false}, {"topic", false}, {"ward", false},
    {"stream", false}, {"seq", true}, {"reason", false}, {"payload_bytes", true},
    {"payload", false},
};
static const char reports_read_raw_sql[] =
    "SELECT received_at, status, topic, ward, stream, seq, reason, payload_bytes, payload "
    "FROM (SELECT received_at, received_ms, 'accepted' AS status, topic, ward, stream, seq, "
    "      NULL AS reason, length(CAST(payload AS BLOB)) AS payload_bytes, payload, id, 0 AS k "
    "      FROM reports "
    "      UNION ALL SELECT received_at, received_ms, 'rejected', topic, ward, stream, seq, "
    "      reason, payload_bytes, payload, id, 1 FROM rejected) "
    "WHERE (?1 IS NULL OR substr(received_at, 1, 10) >= ?1) "
    "AND (?2 IS NULL OR substr(received_at, 1, 10) <= ?2) "
    "AND (?3 IS NULL OR ward = ?3) AND ?4 = ?4 "
    "ORDER BY received_ms, k, id";

#define READ_COUNT(a) ((int)(sizeof a / sizeof a[0]))

const struct store_column *store_export_columns(enum store_export which, int *count)
{
    switch (which) {
    case STORE_EXPORT_REJECTED:
        *count = READ_COUNT(reports_read_rejected_columns);
        return reports_read_rejected_columns;
    case STORE_EXPORT_RAW:
        *count = READ_COUNT(reports_read_raw_columns);
        return reports_read_raw_columns;
    case STORE_EXPORT_VALUES:
        break;
    }
    *count = READ_COUNT(reports_read_value_columns);
    return reports_read_value_columns;
}

struct reports_read_export_call {
    int (*fn)(void *ctx, const struct store_cell *cells);
    void *ctx;
    enum store_export which;
    struct store *store;
    bool current;                          /* values: only those in force */
    struct store_values_cursor in_force;
    enum wp_err err;                       /* a failure reading values_in_force */
};

static int reports_read_export_row(void *ctx, sqlite3_stmt *stmt)
{
    struct reports_read_export_call *c = ctx;
    if (c->current) {
        int64_t in_force = 0;
        c->err = store__values_report_in_force(c->store, &c->in_force, store__read_text(stmt, 0),
                                               store__read_text(stmt, 1),
                                               store__read_text(stmt, 2), &in_force);
        if (c->err != WP_OK)
            return 1;
        if (in_force != sqlite3_column_int64(stmt, 8))
            return 0;
    }
    int count;
    const struct store_column *columns = store_export_columns(c->which, &count);
    struct store_cell cells[16];
    for (int i = 0; i < count && i < 16; i++) {
        struct store_cell *cell = &cells[i];
        cell->null = sqlite3_column_type(stmt, i) == SQLITE_NULL;
        cell->integer = columns[i].integer ? sqlite3_column_int64(stmt, i) : 0;
        if (c->which == STORE_EXPORT_RAW && i == count - 1) {
            cell->text = sqlite3_column_blob(stmt, i);
            cell->bytes = (size_t)sqlite3_column_bytes(stmt, i);
        } else {
            cell->text = columns[i].integer ? NULL : (const char *)sqlite3_column_text(stmt, i);
            cell->bytes = cell->text ? (size_t)sqlite3_column_bytes(stmt, i) : 0;
        }
    }
    return c->fn(c->ctx, cells);
}

enum wp_err store_read_export(struct store *store, enum store_export which,
                              const struct store_export_filter *filter,
                              int (*fn)(void *ctx, const struct store_cell *cells), void *ctx)
{
    const char *sql = which == STORE_EXPORT_REJECTED ? reports_read_rejected_sql
                      : which == STORE_EXPORT_RAW    ? reports_read_raw_sql
                                                     : reports_read_values_sql;
    sqlite3_stmt *stmt = store__read_prepare(store, sql);
    if (stmt) {
        if (filter->from)
            sqlite3_bind_text(stmt, 1, filter->from, -1, SQLITE_STATIC);
        if (filter->to)
            sqlite3_bind_text(stmt, 2, filter->to, -1, SQLITE_STATIC);
        if (filter->ward)
            sqlite3_bind_text(stmt, 3, filter->ward, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, filter->current);
    }
    struct reports_read_export_call c = {fn, ctx, which, store,
                                         which == STORE_EXPORT_VALUES && filter->current,
                                         {0}, WP_OK};
    enum wp_err rc = store__read_rows(store, stmt, reports_read_export_row, &c);
    store__packed_free(&c.in_force.row);
    if (c.err != WP_OK) {
        /* store__values_report_in_force said what in errmsg: as store_read_error says it */
        char what[300];
        snprintf(what, sizeof what, "%.299s", store->errmsg);
        snprintf(store->errmsg, sizeof store->errmsg, "%.200s: %s", store->path, what);
        return WP_ERR_DB;
    }
    return rc;
}
