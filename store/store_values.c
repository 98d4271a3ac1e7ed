/* store_values.c — the values in force (values_in_force, store.h version 7): one row
 * per (unit, period) whose blob packs each indicator's value, the report in force, the
 * first report to carry it and the earliest instant judged (store_packed.c). Written
 * once per report; read by the rules (store_each_value_in/of), the schedule's arrivals
 * and `wardpulse export --current`. */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct store_statement store__value_statements[] = {
    {STMT_PACKED_GET,
     "SELECT packed FROM values_in_force WHERE unit = ?1 AND period = ?2"},
    {STMT_PACKED_PUT,
     "INSERT INTO values_in_force (unit, period, packed) VALUES (?1, ?2, ?3) "
     "ON CONFLICT (unit, period) DO UPDATE SET packed = excluded.packed"},
    {STMT_REPORT_ORDER,
     "SELECT stream, seq, observed_ms FROM reports WHERE id = ?1"},
    {STMT_REPORT_RECEIVED,
     "SELECT received_ms FROM reports WHERE id = ?1"},
    /* A unit's periods, for one indicator's series. */
    {STMT_WARD_SERIES,
     "SELECT period, packed FROM values_in_force WHERE unit = "
     "(SELECT id FROM units WHERE code = ?1)"},
    /* A unit's periods, ?2 and those between ?3 and ?4 (a week and its days). */
    {STMT_PERIOD_VALUES,
     "SELECT period, packed FROM values_in_force WHERE unit = "
     "(SELECT id FROM units WHERE code = ?1) AND (period = ?2 OR period BETWEEN ?3 AND ?4)"},
    {STMT_COUNT, NULL},
};

/* Decodes column `column` of stmt into p; WP_ERR_DB (said in errmsg) when corrupt. */
static enum wp_err values_decode(struct store *store, sqlite3_stmt *stmt, int column,
                                 struct store_packed *p)
{
    if (store__packed_decode(sqlite3_column_blob(stmt, column),
                             (size_t)sqlite3_column_bytes(stmt, column), p))
        return WP_OK;
    snprintf(store->errmsg, sizeof store->errmsg, "values_in_force: a packed row that "
             "cannot be read (format %d expected)", STORE_PACKED_FORMAT);
    return WP_ERR_DB;
}

/* The row of (unit, period) into p (empty when none). */
static enum wp_err values_get(struct store *store, int64_t unit, const char *period,
                              struct store_packed *p)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_PACKED_GET);
    sqlite3_bind_int64(stmt, 1, unit);
    sqlite3_bind_text(stmt, 2, period, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    enum wp_err err = WP_OK;
    p->count = 0;
    if (rc == SQLITE_ROW)
        err = values_decode(store, stmt, 0, p);
    else if (rc != SQLITE_DONE)
        err = store__fail(store, rc, "reading the values in force");
    sqlite3_reset(stmt);
    return err;
}

/* What decides between two reports of one value: stream, seq, observed_ms. */
struct values_order {
    int64_t id;
    char stream[WP_STREAM_LEN + 1];
    int64_t seq, observed_ms;
};

static enum wp_err values_order_of(struct store *store, int64_t id, struct values_order *o)
{
    if (o->id == id)
        return WP_OK;
    sqlite3_stmt *stmt = store__stmt(store, STMT_REPORT_ORDER);
    sqlite3_bind_int64(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        o->id = id;
        snprintf(o->stream, sizeof o->stream, "%s", store__column_text(stmt, 0));
        o->seq = sqlite3_column_int64(stmt, 1);
        o->observed_ms = sqlite3_column_int64(stmt, 2);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK
                            : store__fail(store, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
                                          "reading the report in force");
}

enum wp_err store__values_add(struct store *store, const struct wp_report *report,
                              int64_t report_id, int64_t observed_ms, int64_t judged_ms)
{
    if (!report->value_count)
        return WP_OK;
    int64_t unit = 0;
    struct store_packed *p = &store->packed;
    enum wp_err rc = store__intern(store, true, report->ward, true, &unit);
    if (rc == WP_OK)
        rc = values_get(store, unit, report->period, p);
    struct values_order order = {0};
    for (size_t i = 0; rc == WP_OK && i < report->value_count; i++) {
        const struct wp_report_value *v = &report->values[i];
        int64_t indicator = 0;
        if ((rc = store__intern(store, false, v->indicator, true, &indicator)) != WP_OK)
            break;
        struct store_packed_value *e = store__packed_find(p, indicator);
        if (!e) {
            if (!(e = store__packed_add(p, indicator)))
                return store__fail(store, SQLITE_NOMEM, "packing the values in force");
            *e = (struct store_packed_value){indicator, v->value, report_id, report_id,
                                             judged_ms};
            continue;
        }
        /* Within one stream the later seq wins, whatever observed_at says (a ward PC
         * whose clock was set back, a report sent again to heal a gap); across streams
         * the later observed_at, and on equal observed_at the later arrival (this one),
         * as store.h promises. The earliest judged instant is kept whoever wins; the
         * first report stays (reports come in arrival order). */
        if ((rc = values_order_of(store, e->report_id, &order)) != WP_OK)
            break;
        bool wins = strcmp(order.stream, report->stream) == 0 ? report->seq > order.seq
                                                              : observed_ms >= order.observed_ms;
        if (wins) {
            e->value = v->value;
            e->report_id = report_id;
        }
        if (judged_ms < e->first_judged_ms)
            e->first_judged_ms = judged_ms;
    }
    size_t len = 0;
    if (rc != WP_OK)
        return rc;
    if (!store__packed_encode(p, &store->packed_buf, &len, &store->packed_cap))
        return store__fail(store, SQLITE_NOMEM, "packing the values in force");
    sqlite3_stmt *stmt = store__stmt(store, STMT_PACKED_PUT);
    sqlite3_bind_int64(stmt, 1, unit);
    sqlite3_bind_text(stmt, 2, report->period, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, store->packed_buf, (int)len, SQLITE_STATIC);
    return store__step_done(store, stmt, "writing the values in force");
}

/* ---- what the rules read ------------------------------------------------------------ */

enum wp_err store_each_value_of(struct store *store, const char *ward, const char *indicator,
                                enum wp_err (*fn)(void *ctx, const char *period, int64_t value),
                                void *ctx)
{
    int64_t id = 0;
    enum wp_err rc = store__intern(store, false, indicator, false, &id);
    if (rc != WP_OK || !id)
        return rc;
    struct store_packed p = {0};
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_WARD_SERIES, ward, NULL);
    int src;
    while (rc == WP_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW)
        if ((rc = values_decode(store, stmt, 1, &p)) == WP_OK) {
            const struct store_packed_value *v = store__packed_find(&p, id);
            if (v)
                rc = fn(ctx, store__column_text(stmt, 0), v->value);
        }
    if (rc == WP_OK && src != SQLITE_DONE)
        rc = store__fail(store, src, "reading a series");
    sqlite3_reset(stmt);
    store__packed_free(&p);
    return rc;
}

enum wp_err store_each_value_in(struct store *store, const char *ward, const char *period,
                                enum wp_err (*fn)(void *ctx, const char *indicator,
                                                  int64_t value),
                                void *ctx)
{
    struct store_packed p = {0};
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_PERIOD_VALUES, ward, period);
    store__bind_text(stmt, 3, period);
    store__bind_text(stmt, 4, period);
    int src = sqlite3_step(stmt);
    enum wp_err rc = src == SQLITE_ROW ? values_decode(store, stmt, 1, &p)
                     : src == SQLITE_DONE ? WP_OK
                                          : store__fail(store, src, "reading a period's values");
    sqlite3_reset(stmt);
    for (size_t i = 0; rc == WP_OK && i < p.count; i++) {
        const char *name = store__indicator_name(store, p.v[i].indicator);
        rc = name ? fn(ctx, name, p.v[i].value) : WP_ERR_DB;
    }
    store__packed_free(&p);
    return rc;
}

enum wp_err store__values_each_arrival(struct store *store, const char *unit,
                                       const char *period, const char *first, const char *last,
                                       enum wp_err (*fn)(void *ctx, const char *indicator,
                                                         int64_t judged_ms,
                                                         int64_t received_ms),
                                       void *ctx)
{
    /* Per indicator, over the period's row and its days': the least first_id (the first
     * to arrive) and the least judged instant. */
    struct store_packed row = {0}, least = {0};
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_PERIOD_VALUES, unit, period);
    store__bind_text(stmt, 3, first);
    store__bind_text(stmt, 4, last);
    enum wp_err rc = WP_OK;
    int src;
    while (rc == WP_OK && (src = sqlite3_step(stmt)) == SQLITE_ROW)
        if ((rc = values_decode(store, stmt, 1, &row)) == WP_OK)
            for (size_t i = 0; rc == WP_OK && i < row.count; i++) {
                const struct store_packed_value *v = &row.v[i];
                struct store_packed_value *l = store__packed_find(&least, v->indicator);
                if (!l) {
                    if (!(l = store__packed_add(&least, v->indicator)))
                        rc = store__fail(store, SQLITE_NOMEM, "reading a period's reports");
                    else
                        *l = *v;
                    continue;
                }
                if (v->first_id < l->first_id)
                    l->first_id = v->first_id;
                if (v->first_judged_ms < l->first_judged_ms)
                    l->first_judged_ms = v->first_judged_ms;
            }
    if (rc == WP_OK && src != SQLITE_DONE)
        rc = store__fail(store, src, "reading a period's reports");
    sqlite3_reset(stmt);
    /* By indicator id, as the packing orders them. */
    size_t len = 0;
    if (rc == WP_OK && least.count
        && !store__packed_encode(&least, &store->packed_buf, &len, &store->packed_cap))
        rc = store__fail(store, SQLITE_NOMEM, "reading a period's reports");
    for (size_t i = 0; rc == WP_OK && i < least.count; i++) {
        stmt = store__stmt(store, STMT_REPORT_RECEIVED);
        sqlite3_bind_int64(stmt, 1, least.v[i].first_id);
        src = sqlite3_step(stmt);
        int64_t received_ms = src == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        sqlite3_reset(stmt);
        if (src != SQLITE_ROW) {
            rc = store__fail(store, src == SQLITE_DONE ? SQLITE_CORRUPT : src,
                             "reading when a figure arrived");
            break;
        }
        const char *name = store__indicator_name(store, least.v[i].indicator);
        rc = name ? fn(ctx, name, least.v[i].first_judged_ms, received_ms) : WP_ERR_DB;
    }
    store__packed_free(&row);
    store__packed_free(&least);
    return rc;
}

enum wp_err store__values_report_in_force(struct store *store, struct store_values_cursor *c,
                                          const char *ward, const char *period,
                                          const char *indicator, int64_t *report_id)
{
    *report_id = 0;
    if (!c->loaded || strcmp(c->ward, ward) != 0 || strcmp(c->period, period) != 0) {
        snprintf(c->ward, sizeof c->ward, "%s", ward);
        snprintf(c->period, sizeof c->period, "%s", period);
        c->loaded = true;
        c->row.count = 0;
        int64_t unit = 0;
        enum wp_err rc = store__intern(store, true, ward, false, &unit);
        if (rc == WP_OK && unit)
            rc = values_get(store, unit, period, &c->row);
        if (rc != WP_OK) {
            c->loaded = false;
            return rc;
        }
    }
    int64_t id = 0;
    enum wp_err rc = store__intern(store, false, indicator, false, &id);
    const struct store_packed_value *v = rc == WP_OK && id ? store__packed_find(&c->row, id)
                                                            : NULL;
    if (v)
        *report_id = v->report_id;
    return rc;
}

/* ---- migration 7 --------------------------------------------------------------------- */

static enum wp_err values_put(struct store *store, sqlite3_stmt *put, int64_t unit,
                              const char *period, struct store_packed *p)
{
    size_t len = 0;
    if (!store__packed_encode(p, &store->packed_buf, &len, &store->packed_cap))
        return store__fail(store, SQLITE_NOMEM, "packing the values in force");
    sqlite3_reset(put);
    sqlite3_bind_int64(put, 1, unit);
    sqlite3_bind_text(put, 2, period, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(put, 3, store->packed_buf, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(put);
    p->count = 0;
    return rc == SQLITE_DONE ? WP_OK : store__fail(store, rc, "migrating the values in force");
}

enum wp_err store__values_migrate(struct store *store)
{
    sqlite3_stmt *get = NULL, *put = NULL;
    int src = sqlite3_prepare_v2(store->db,
        "SELECT u.id, c.period, i.id, c.value, c.report_id,"
        " (SELECT MIN(v.report_id) FROM report_values v WHERE v.ward = c.ward"
        "  AND v.period = c.period AND v.indicator = c.indicator),"
        " (SELECT MIN(COALESCE(r.judged_ms, r.received_ms)) FROM report_values v"
        "  JOIN reports r ON r.id = v.report_id WHERE v.ward = c.ward"
        "  AND v.period = c.period AND v.indicator = c.indicator)"
        " FROM current_values c JOIN units u ON u.code = c.ward"
        " JOIN indicators i ON i.name = c.indicator ORDER BY u.id, c.period", -1, &get, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(store->db, "INSERT INTO values_in_force (unit, period, packed) "
                                 "VALUES (?1, ?2, ?3)", -1, &put, NULL);
    enum wp_err rc = src == SQLITE_OK ? WP_OK
                                      : store__fail(store, src, "migrating the values in force");
    struct store_packed p = {0};
    int64_t unit = 0;
    char period[16] = "";
    while (rc == WP_OK && (src = sqlite3_step(get)) == SQLITE_ROW) {
        int64_t u = sqlite3_column_int64(get, 0);
        const char *per = store__column_text(get, 1);
        if (p.count && (u != unit || strcmp(per, period) != 0))
            rc = values_put(store, put, unit, period, &p);
        unit = u;
        snprintf(period, sizeof period, "%s", per);
        struct store_packed_value *v = rc == WP_OK ? store__packed_add(&p, 0) : NULL;
        if (rc == WP_OK && !v)
            rc = store__fail(store, SQLITE_NOMEM, "migrating the values in force");
        if (v) {
            int64_t report_id = sqlite3_column_int64(get, 4);
            *v = (struct store_packed_value){
                sqlite3_column_int64(get, 2), sqlite3_column_int64(get, 3), report_id,
                sqlite3_column_type(get, 5) == SQLITE_NULL ? report_id
                                                           : sqlite3_column_int64(get, 5),
                sqlite3_column_int64(get, 6)};
        }
    }
    if (rc == WP_OK && src != SQLITE_DONE)
        rc = store__fail(store, src, "migrating the values in force");
    if (rc == WP_OK && p.count)
        rc = values_put(store, put, unit, period, &p);
    store__packed_free(&p);
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return rc;
}
