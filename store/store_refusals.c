/* store_refusals.c — what the rules read of the refused messages (contract in store.h,
 * store_refusals_on_day). The rows are written by store_add_rejected (store_reports.c). */
#include <stdio.h>

#include "calendar.h"
#include "store_private.h"

const struct store_statement store__refusal_statements[] = {
    /* Rows received that day and their repeats; rows kept without their payload (over
     * the bound, with a seq the ack must name); and those only counted. */
    {STMT_REFUSALS_ON_DAY,
     "SELECT coalesce(sum(1 + repeats), 0), "
     "  coalesce(sum(length(payload) = 0 AND payload_bytes > 0), 0), "
     "  (SELECT coalesce(sum(messages), 0) FROM rejected_overflow "
     "   WHERE ward = ?1 AND day = ?4) "
     "FROM rejected WHERE ward = ?1 AND received_ms >= ?2 AND received_ms < ?3"},
    {STMT_COUNT, NULL},
};

enum wp_err store_refusals_on_day(struct store *store, const char *ward, int64_t day,
                                  int64_t *refused, int64_t *not_kept)
{
    char date[16];
    wp_date_format(day, date, sizeof date);
    sqlite3_stmt *stmt = store__stmt(store, STMT_REFUSALS_ON_DAY);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, wp_day_start_ms(day, WP_LOCAL_OFFSET_MIN));
    sqlite3_bind_int64(stmt, 3, wp_day_start_ms(day + 1, WP_LOCAL_OFFSET_MIN));
    sqlite3_bind_text(stmt, 4, date, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        int64_t counted = sqlite3_column_int64(stmt, 2);
        *refused = sqlite3_column_int64(stmt, 0) + counted;
        *not_kept = sqlite3_column_int64(stmt, 1) + counted;
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, "counting a day's refusals");
}
