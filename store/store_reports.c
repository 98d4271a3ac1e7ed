/* store_reports.c — reports, their values and tasks, and rejections: what ingest writes
 * (contract in store.h). */
#include "store_private.h"

#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"

/* Reports, values, tasks, rejections, streams and lost seqs (store_reports.c,
 * store_streams.c). */
const struct store_statement store__report_statements[] = {
    {STMT_KNOWN,
     "SELECT 1 FROM reports WHERE ward = ?1 AND stream = ?2 AND seq = ?3 "
     "UNION ALL SELECT 1 FROM rejected WHERE ward = ?1 AND stream = ?2 AND seq = ?3 "
     "LIMIT 1"},
    /* Every row under one identity, with what was stored: the report, then rejections. */
    {STMT_IDENTITY,
     "SELECT 0, content_hash, payload FROM reports WHERE ward = ?1 AND stream = ?2 "
     "AND seq = ?3 UNION ALL SELECT 1, content_hash, NULL FROM rejected "
     "WHERE ward = ?1 AND stream = ?2 AND seq = ?3"},
    {STMT_LOST_AT,
     "SELECT last_seq FROM lost_reports WHERE ward = ?1 AND stream = ?2 "
     "AND first_seq <= ?3 AND last_seq >= ?3"},
    {STMT_INSERT_LOST,
     "INSERT OR IGNORE INTO lost_reports (ward, stream, first_seq, last_seq, declared_ms, "
     "declared_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {STMT_SET_DELIVERY,
     "UPDATE streams SET unacked_from = ?3, kept_from = ?4 WHERE ward = ?1 AND stream = ?2"},
    {STMT_LOST_SINCE,
     "SELECT stream, first_seq, last_seq, declared_ms FROM lost_reports "
     "WHERE ward = ?1 AND declared_ms >= ?2 ORDER BY declared_ms, stream, first_seq"},
    {STMT_SAME_UNIDENTIFIED,
     "SELECT id FROM rejected WHERE ward IS ?1 AND content_hash = ?2 AND seq IS NULL "
     "AND topic = ?3 LIMIT 1"},
    {STMT_REPEAT_REJECTED,
     "UPDATE rejected SET repeats = repeats + 1 WHERE id = ?1"},
    {STMT_REJECTED_TODAY,
     "SELECT count(*), coalesce(sum(length(payload)), 0) FROM rejected "
     "WHERE ward IS ?1 AND received_ms >= ?2"},
    {STMT_OVERFLOW,
     "INSERT INTO rejected_overflow (ward, day, messages, bytes) VALUES (?1, ?2, 1, ?3) "
     "ON CONFLICT (ward, day) DO UPDATE SET messages = messages + 1, "
     "bytes = bytes + excluded.bytes"},
    {STMT_INSERT_REPORT,
     "INSERT INTO reports (ward, stream, seq, period, period_first, period_last, "
     "observed_at, observed_ms, received_at, received_ms, topic, payload, content_hash, "
     "committed_at, committed_ms, judged_ms) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"},
    {STMT_INSERT_TASK,
     "INSERT INTO report_tasks (report_id, ward, period, task, state) "
     "VALUES (?1, ?2, ?3, ?4, ?5)"},
    /* The latest period wins; within it, as for values, the later observed_at, then
     * the later arrival (rows come in arrival order, hence ">="). */
    {STMT_UPSERT_CURRENT_TASK,
     "INSERT INTO current_tasks (ward, task, state, period, report_id, observed_ms, "
     "period_last, stream, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
     "ON CONFLICT (ward, task) DO UPDATE SET state = excluded.state, "
     "period = excluded.period, report_id = excluded.report_id, "
     "observed_ms = excluded.observed_ms, period_last = excluded.period_last, "
     "stream = excluded.stream, seq = excluded.seq "
     "WHERE excluded.period_last > current_tasks.period_last "
     "OR (excluded.period_last = current_tasks.period_last "
     "AND CASE WHEN excluded.stream = current_tasks.stream "
     "THEN excluded.seq > current_tasks.seq "
     "ELSE excluded.observed_ms >= current_tasks.observed_ms END)"},
    {STMT_INSERT_REJECTED,
     "INSERT INTO rejected (received_at, received_ms, topic, ward, stream, seq, reason, "
     "payload, payload_bytes, content_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
    {STMT_TOUCH_STREAM,
     "INSERT INTO streams (ward, stream, acked_through, first_seen_at, last_seen_at) "
     "VALUES (?1, ?2, 0, ?3, ?3) "
     "ON CONFLICT (ward, stream) DO UPDATE SET last_seen_at = excluded.last_seen_at"},
    {STMT_GET_ACKED,
     "SELECT acked_through, unacked_from, kept_from FROM streams "
     "WHERE ward = ?1 AND stream = ?2"},
    {STMT_SET_ACKED,
     "UPDATE streams SET acked_through = ?3 WHERE ward = ?1 AND stream = ?2"},
    /* One reason per seq: the latest rejection's (a reused seq may have several rows;
     * the agent holds the latest content it sent). SQLite takes the bare column from
     * the row of max(id). */
    {STMT_REJECTED_RANGE,
     "SELECT seq, reason, max(id) FROM rejected WHERE ward = ?1 AND stream = ?2 "
     "AND seq BETWEEN ?3 AND ?4 GROUP BY seq ORDER BY seq LIMIT ?5"},
    {STMT_FIRST_REPORT,
     "SELECT MIN(received_ms) FROM reports"},
    /* The state in force: that of the unit's latest period naming the task (store.h). */
    {STMT_TASK_STATE,
     "SELECT state FROM current_tasks WHERE ward = ?1 AND task = ?2"},
    {STMT_COUNT, NULL},
};

static enum wp_err store_add_values(struct store *store, const struct wp_report *report,
                                    int64_t report_id, int64_t observed_ms,
                                    int64_t judged_ms, const char *period_last)
{
    enum wp_err rc = store__values_add(store, report, report_id, observed_ms, judged_ms);
    for (size_t i = 0; rc == WP_OK && i < report->task_count; i++) {
        const struct wp_report_task *t = &report->tasks[i];
        sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_TASK);
        sqlite3_bind_int64(stmt, 1, report_id);
        sqlite3_bind_text(stmt, 2, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, t->task, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, t->state, -1, SQLITE_STATIC);
        rc = store__step_done(store, stmt, "storing a task state");
        if (rc != WP_OK)
            break;
        stmt = store__stmt(store, STMT_UPSERT_CURRENT_TASK);
        sqlite3_bind_text(stmt, 1, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, t->task, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, t->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, report_id);
        sqlite3_bind_int64(stmt, 6, observed_ms);
        sqlite3_bind_text(stmt, 7, period_last, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 8, report->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 9, report->seq);
        rc = store__step_done(store, stmt, "updating a current task state");
    }
    return rc;
}

/* What the database holds under (ward, stream, seq), compared with content hash. */
static enum wp_err store_lookup(struct store *store, const char *ward, const char *stream,
                                int64_t seq, uint64_t hash, enum store_identity *verdict)
{
    sqlite3_stmt *stmt = store__stmt_identity(store, STMT_IDENTITY, ward, stream, seq);
    *verdict = STORE_IDENTITY_NEW;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        bool same;
        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
            same = (uint64_t)sqlite3_column_int64(stmt, 1) == hash;
        } else if (sqlite3_column_int(stmt, 0) == 0) {
            /* A report stored before version 4: hash what it says. */
            struct wp_report old;
            same = wp_report_decode(sqlite3_column_text(stmt, 2),
                                    (size_t)sqlite3_column_bytes(stmt, 2), &old, NULL, 0)
                       == WP_OK
                   && wp_report_content_hash(&old) == hash;
            wp_report_clear(&old);
        } else {
            same = true; /* a rejection stored before version 4: cannot tell, as before */
        }
        if (same) {
            *verdict = STORE_IDENTITY_SAME;
            break;
        }
        *verdict = STORE_IDENTITY_CONFLICT;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, "looking up a report");
    return WP_OK;
}

enum wp_err store_add_report(struct store *store, const struct wp_report *report,
                             const char *topic, const void *payload, size_t len,
                             int64_t received_ms)
{
    uint64_t hash = wp_report_content_hash(report);
    enum store_identity verdict;
    enum wp_err rc = store_lookup(store, report->ward, report->stream, report->seq, hash,
                                  &verdict);
    if (rc != WP_OK)
        return rc;
    if (verdict == STORE_IDENTITY_SAME)
        return WP_ERR_DUPLICATE;
    if (verdict == STORE_IDENTITY_CONFLICT)
        return WP_ERR_CONFLICT;

    /* The decoder has checked both; a failure here is a bug upstream, not bad input. */
    int64_t first_day = 0, observed_ms = 0;
    int day_count = 1;
    if (!wp_period_parse(report->period, &first_day, &day_count)
        || !wp_datetime_parse(report->observed_at, &observed_ms)) {
        snprintf(store->errmsg, sizeof store->errmsg, "report %s/%s/%lld: bad period or "
                 "observed_at reached the store", report->ward, report->stream,
                 (long long)report->seq);
        return WP_ERR_INVALID;
    }
    char first[16], last[16], received_at[40];
    wp_date_format(first_day, first, sizeof first);
    wp_date_format(first_day + day_count - 1, last, sizeof last);
    wp_datetime_format_local(received_ms, received_at, sizeof received_at);

    sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_REPORT);
    sqlite3_bind_text(stmt, 1, report->ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, report->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, report->seq);
    sqlite3_bind_text(stmt, 4, report->period, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, last, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, report->observed_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, observed_ms);
    sqlite3_bind_text(stmt, 9, received_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, received_ms);
    sqlite3_bind_text(stmt, 11, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 12, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 13, (sqlite3_int64)hash);
    /* Timeliness is judged from when the ward committed the report, which its clock
     * says: trusted no earlier than the period began (a clock set back cannot make a
     * report early) and no later than it arrived (nor can one set forward make it
     * late). */
    int64_t committed_ms = 0, judged_ms = received_ms;
    if (report->committed_at[0] && wp_datetime_parse(report->committed_at, &committed_ms)) {
        int64_t period_start_ms = wp_day_start_ms(first_day, WP_LOCAL_OFFSET_MIN);
        judged_ms = committed_ms < period_start_ms ? period_start_ms : committed_ms;
        if (judged_ms > received_ms)
            judged_ms = received_ms;
        sqlite3_bind_text(stmt, 14, report->committed_at, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 15, committed_ms);
    }
    sqlite3_bind_int64(stmt, 16, judged_ms);
    if ((rc = store__step_done(store, stmt, "storing a report")) != WP_OK)
        return rc;
    return store_add_values(store, report, sqlite3_last_insert_rowid(store->db), observed_ms,
                            judged_ms, last);
}

void store_set_rejection_bounds(struct store *store, int64_t max_count, int64_t max_bytes)
{
    store->rejected_max_count = max_count;
    store->rejected_max_bytes = max_bytes;
}

/* Whether one more rejection of `bytes` payload bytes from ward stays within today's
 * bound (store_set_rejection_bounds). */
static enum wp_err store_rejection_fits(struct store *store, const char *ward,
                                        int64_t received_ms, size_t bytes, bool *fits)
{
    *fits = true;
    if (store->rejected_max_count <= 0 && store->rejected_max_bytes <= 0)
        return WP_OK;
    int64_t day_start = wp_day_start_ms(wp_local_day(received_ms), WP_LOCAL_OFFSET_MIN);
    sqlite3_stmt *stmt = store__stmt(store, STMT_REJECTED_TODAY);
    if (ward)
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, day_start);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        int64_t count = sqlite3_column_int64(stmt, 0), sum = sqlite3_column_int64(stmt, 1);
        *fits = (store->rejected_max_count <= 0 || count < store->rejected_max_count)
                && (store->rejected_max_bytes <= 0
                    || sum + (int64_t)bytes <= store->rejected_max_bytes);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, "counting today's rejections");
}

enum wp_err store_add_rejected(struct store *store, struct store_rejection *rej)
{
    bool identified = rej->ward && rej->stream && rej->seq > 0;
    rej->not_kept = false;
    enum wp_err rc;
    if (identified) {
        /* The same message again is a duplicate; other content under a known seq is a
         * rejection of its own (a reused seq), stored once per content. */
        enum store_identity verdict;
        if ((rc = store_lookup(store, rej->ward, rej->stream, rej->seq, rej->content_hash,
                               &verdict)) != WP_OK)
            return rc;
        if (verdict == STORE_IDENTITY_SAME)
            return WP_ERR_DUPLICATE;
    } else {
        /* The same junk again: counted on the row that holds it, not stored again. */
        sqlite3_stmt *stmt = store__stmt(store, STMT_SAME_UNIDENTIFIED);
        if (rej->ward)
            sqlite3_bind_text(stmt, 1, rej->ward, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)rej->content_hash);
        sqlite3_bind_text(stmt, 3, rej->topic, -1, SQLITE_STATIC);
        int src = sqlite3_step(stmt);
        int64_t same = src == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        sqlite3_reset(stmt);
        if (src != SQLITE_ROW && src != SQLITE_DONE)
            return store__fail(store, src, "looking up a rejection");
        if (same) {
            stmt = store__stmt(store, STMT_REPEAT_REJECTED);
            sqlite3_bind_int64(stmt, 1, same);
            if ((rc = store__step_done(store, stmt, "counting a repeated rejection")) != WP_OK)
                return rc;
            return WP_ERR_DUPLICATE;
        }
    }
    bool fits;
    if ((rc = store_rejection_fits(store, rej->ward, rej->received_ms, rej->len, &fits))
        != WP_OK)
        return rc;
    if (!fits) {
        rej->not_kept = true;
        if (!identified) {
            /* Nothing to ack: counted, not stored. */
            char day[16];
            wp_date_format(wp_local_day(rej->received_ms), day, sizeof day);
            sqlite3_stmt *stmt = store__stmt(store, STMT_OVERFLOW);
            sqlite3_bind_text(stmt, 1, rej->ward ? rej->ward : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt, 2, day, -1, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 3, (sqlite3_int64)rej->original_len);
            return store__step_done(store, stmt, "counting a rejection over the bound");
        }
        /* With a seq the ack must name it: the row is kept, its payload not. */
    }
    char received_at[40];
    wp_datetime_format_local(rej->received_ms, received_at, sizeof received_at);

    sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_REJECTED);
    sqlite3_bind_text(stmt, 1, received_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, rej->received_ms);
    sqlite3_bind_text(stmt, 3, rej->topic, -1, SQLITE_STATIC);
    if (rej->ward)
        sqlite3_bind_text(stmt, 4, rej->ward, -1, SQLITE_STATIC);
    if (rej->stream)
        sqlite3_bind_text(stmt, 5, rej->stream, -1, SQLITE_STATIC);
    if (identified)
        sqlite3_bind_int64(stmt, 6, rej->seq);
    sqlite3_bind_text(stmt, 7, rej->reason, -1, SQLITE_STATIC);
    /* zeroblob-free empty payload: bind a zero-length blob, not NULL (NOT NULL column). */
    size_t kept = rej->not_kept ? 0 : rej->len;
    sqlite3_bind_blob(stmt, 8, kept ? rej->payload : "", (int)kept, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 9, (sqlite3_int64)rej->original_len);
    sqlite3_bind_int64(stmt, 10, (sqlite3_int64)rej->content_hash);
    return store__step_done(store, stmt, "storing a rejection");
}

/* ---- what the rules read: values and tasks in force ---------------------------------- */

enum wp_err store_first_report_ms(struct store *store, int64_t *received_ms)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_FIRST_REPORT);
    int rc = sqlite3_step(stmt);
    *received_ms = rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL
                       ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, "finding the first report");
}

enum wp_err store_task_state(struct store *store, const char *ward, const char *task,
                             char *state, size_t size)
{
    sqlite3_stmt *stmt = store__stmt_texts(store, STMT_TASK_STATE, ward, task);
    int rc = sqlite3_step(stmt);
    state[0] = '\0';
    if (rc == SQLITE_ROW)
        snprintf(state, size, "%s", store__column_text(stmt, 0));
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? WP_OK
                                                 : store__fail(store, rc, "reading a task state");
}
