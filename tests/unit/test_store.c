/* test_store.c — the store on a real SQLite file in a temporary folder, through its API:
 * migrations from an empty file, ack gaps, duplicates, a reused seq, supersede, the WAL
 * checkpointed by the store's own thread. Row
 * counts are read over a second, read-only connection (what the file really holds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "report.h"
#include "store.h"
#include "store_alerts.h"
#include "store_schedule.h"
#include "tmp_dir.h"

#define STREAM_A "9f1c2a7e4b5d6c3a"
#define STREAM_B "0123456789abcdef"
#define STREAM_C "c0ffee00c0ffee00"
#define T0 INT64_C(1651572000000)   /* 2022-05-03T17:00:00+07:00 */

static char db_path[256];

/* Builds, decodes and stores one report in its own transaction; returns what
 * store_add_report said. */
static enum wp_err add(struct store *store, const char *stream, int64_t seq,
                       const char *observed_at, const char *period, int64_t value)
{
    char payload[512], err[256];
    snprintf(payload, sizeof payload,
             "{\"v\":1,\"ward\":\"00001\",\"stream\":\"%s\",\"seq\":%lld,"
             "\"period\":\"%s\",\"observed_at\":\"%s\","
             "\"values\":{\"cases_new_community\":%lld}}",
             stream, (long long)seq, period, observed_at, (long long)value);
    struct wp_report r;
    if (wp_report_decode(payload, strlen(payload), &r, err, sizeof err) != WP_OK) {
        fprintf(stderr, "test report refused: %s\n", err);
        return WP_ERR_INVALID;
    }
    enum wp_err rc = store_begin(store);
    if (rc == WP_OK)
        rc = store_add_report(store, &r, "wardpulse/v1/report/00001", payload, strlen(payload),
                              T0 + seq);
    if (rc == WP_OK)
        rc = store_commit(store);
    else
        store_rollback(store);
    wp_report_clear(&r);
    return rc;
}

static int64_t acked_through(struct store *store, const char *stream)
{
    struct store_ack_state st;
    memset(&st, 0, sizeof st);
    if (store_begin(store) != WP_OK)
        return -1;
    enum wp_err rc = store_advance_ack(store, "00001", stream, T0, 0, 0, &st);
    if (rc == WP_OK)
        rc = store_commit(store);
    if (rc != WP_OK) {
        store_rollback(store);
        return -1;
    }
    return st.acked_through;
}

/* A number the file holds, read over a connection of its own. */
static long long count(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
        && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

struct value_in_force {
    const char *indicator;
    int64_t value;
    int seen;
};

static enum wp_err note_value(void *ctx, const char *indicator, int64_t value)
{
    struct value_in_force *v = ctx;
    if (strcmp(indicator, v->indicator) == 0) {
        v->value = value;
        v->seen++;
    }
    return WP_OK;
}

static int64_t in_force(struct store *store, const char *period)
{
    struct value_in_force v = {"cases_new_community", -1, 0};
    if (store_each_value_in(store, "00001", period, note_value, &v) != WP_OK || v.seen != 1)
        return -1;
    return v.value;
}

struct arrival {
    int seen;
    int64_t judged_ms, received_ms;
};

static enum wp_err note_arrival(void *ctx, const char *indicator, int64_t judged_ms,
                                int64_t received_ms)
{
    struct arrival *a = ctx;
    a->seen += strcmp(indicator, "cases_new_community") == 0;
    a->judged_ms = judged_ms;
    a->received_ms = received_ms;
    return WP_OK;
}

static enum wp_err count_alert(void *ctx, const struct store_alert *alert)
{
    (void)alert;
    (*(int *)ctx)++;
    return WP_OK;
}

static void test_migrations(struct store **store, char *err, size_t errlen)
{
    /* An empty file (as `touch` leaves it) is migrated from version 0 to the latest. */
    FILE *f = fopen(db_path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(store_open(db_path, store, err, errlen) == WP_OK);
    if (!*store) {
        fprintf(stderr, "store_open: %s\n", err);
        return;
    }
    CHECK(store_schema_version(*store) == STORE_SCHEMA_VERSION);
    CHECK(count("PRAGMA user_version") == STORE_SCHEMA_VERSION);
    /* Every group of tables is there and empty. */
    int64_t first = -1;
    CHECK(store_first_report_ms(*store, &first) == WP_OK && first == 0);
    int alerts = 0;
    CHECK(store_alert_each(*store, STORE_ALERTS_ALL, count_alert, &alerts) == WP_OK);
    CHECK(alerts == 0);
    CHECK(store_begin(*store) == WP_OK);
    CHECK(store_schedule_clear(*store) == WP_OK);
    CHECK(store_commit(*store) == WP_OK);
    CHECK(count("SELECT count(*) FROM rollup_files") == 0);
    CHECK(count("SELECT count(*) FROM levels") == 0);
    /* Opening again migrates nothing more. */
    store_close(store);
    CHECK(*store == NULL);
    CHECK(store_open(db_path, store, err, errlen) == WP_OK);
    CHECK(*store && store_schema_version(*store) == STORE_SCHEMA_VERSION);
}

static void test_ack_gaps(struct store *store)
{
    CHECK(add(store, STREAM_A, 1, "2022-05-03T17:01:00+07:00", "2022-05-01", 1) == WP_OK);
    CHECK(add(store, STREAM_A, 2, "2022-05-03T17:02:00+07:00", "2022-05-02", 2) == WP_OK);
    CHECK(add(store, STREAM_A, 4, "2022-05-03T17:04:00+07:00", "2022-05-04", 4) == WP_OK);
    /* 3 is missing: the ack stops before the gap, and stays there. */
    CHECK(acked_through(store, STREAM_A) == 2);
    CHECK(acked_through(store, STREAM_A) == 2);
    /* 3 arrives: the ack moves past the filled gap to 4. */
    CHECK(add(store, STREAM_A, 3, "2022-05-03T17:03:00+07:00", "2022-05-03", 3) == WP_OK);
    CHECK(acked_through(store, STREAM_A) == 4);
    /* A stream of its own starts at 0. */
    CHECK(acked_through(store, STREAM_B) == 0);
}

static void test_duplicates(struct store *store)
{
    /* Same stream, seq and content: a duplicate, stored once. */
    CHECK(add(store, STREAM_A, 2, "2022-05-03T17:02:00+07:00", "2022-05-02", 2)
          == WP_ERR_DUPLICATE);
    CHECK(count("SELECT count(*) FROM reports WHERE stream = '" STREAM_A "' AND seq = 2")
          == 1);
    CHECK(count("SELECT count(*) FROM report_values WHERE period = '2022-05-02'") == 1);
    CHECK(acked_through(store, STREAM_A) == 4);
}

static void test_reused_seq(struct store *store)
{
    /* Same stream and seq, other content: refused, nothing written. */
    CHECK(add(store, STREAM_A, 2, "2022-05-03T17:02:00+07:00", "2022-05-02", 99)
          == WP_ERR_CONFLICT);
    CHECK(count("SELECT count(*) FROM reports WHERE stream = '" STREAM_A "' AND seq = 2")
          == 1);
    CHECK(in_force(store, "2022-05-02") == 2);
}

static void test_supersede(struct store *store)
{
    /* A later report of the same stream for the same ward and period replaces the value
     * in force, even with an earlier observed_at (a clock set back). */
    CHECK(in_force(store, "2022-05-03") == 3);
    CHECK(add(store, STREAM_A, 5, "2022-05-03T16:00:00+07:00", "2022-05-03", 30) == WP_OK);
    CHECK(in_force(store, "2022-05-03") == 30);
    /* Both stay in the audit trail (the view report_values reads the payloads). */
    CHECK(count("SELECT count(*) FROM report_values WHERE period = '2022-05-03'") == 2);
    /* Across streams the later observed_at wins: an older one does not supersede … */
    CHECK(add(store, STREAM_B, 1, "2022-05-03T15:00:00+07:00", "2022-05-03", 7) == WP_OK);
    CHECK(in_force(store, "2022-05-03") == 30);
    /* … a newer one does. */
    CHECK(add(store, STREAM_B, 2, "2022-05-03T18:00:00+07:00", "2022-05-03", 8) == WP_OK);
    CHECK(in_force(store, "2022-05-03") == 8);
    CHECK(count("SELECT count(*) FROM report_values WHERE period = '2022-05-03'") == 4);
    /* Other periods keep theirs. */
    CHECK(in_force(store, "2022-05-02") == 2);
    /* The figure first arrived with seq 3 of STREAM_A (received T0 + 3), whichever report
     * is in force now; the earliest instant judged is the least of all that carried it
     * (STREAM_B's seq 1, received — and, without committed_at, judged — at T0 + 1). */
    struct arrival a = {0, 0, 0};
    CHECK(store_schedule_each_arrival(store, "00001", "2022-05-03", note_arrival, &a)
          == WP_OK);
    CHECK(a.seen == 1 && a.judged_ms == T0 + 1 && a.received_ms == T0 + 3);
}

static long long file_size(const char *suffix)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s%s", db_path, suffix);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The store's thread checkpoints the WAL once it crosses its threshold, with the writer's
 * commits going on: its passes count up, the WAL stays bounded (it would hold every
 * commit otherwise: the writer's connection has no automatic checkpoint) and a reader
 * sees every report. */
static void test_checkpoints(struct store *store)
{
    store_set_checkpoint_pages(store, 8);
    int64_t before = store_checkpoint_passes(store);
    long long reports = count("SELECT count(*) FROM reports");
    for (int i = 0; i < 400; i++) {
        char observed[32], period[16];
        snprintf(period, sizeof period, "2021-%02d-%02d", 1 + i / 28 % 12, 1 + i % 28);
        snprintf(observed, sizeof observed, "%sT17:00:00+07:00", period);
        CHECK(add(store, STREAM_C, i + 1, observed, period, i) == WP_OK);
    }
    /* The thread's last pass may still be under way: wait for it, at most 10 s. */
    for (int i = 0; i < 1000 && store_checkpoint_passes(store) == before; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
    CHECK(store_checkpoint_passes(store) > before);
    long long wal = file_size("-wal");
    CHECK(wal > 0 && wal < 1024 * 1024);
    if (!(wal < 1024 * 1024))
        fprintf(stderr, "WAL of %lld bytes after 400 commits\n", wal);
    CHECK(count("SELECT count(*) FROM reports") == reports + 400);
}

int main(void)
{
    char dir[] = "/tmp/wardpulse-test-store-XXXXXX", err[512];
    if (!mkdtemp(dir))
        return 1;
    snprintf(db_path, sizeof db_path, "%s/store.db", dir);
    struct store *store = NULL;
    test_migrations(&store, err, sizeof err);
    if (store) {
        test_ack_gaps(store);
        test_duplicates(store);
        test_reused_seq(store);
        test_supersede(store);
        test_checkpoints(store);
    }
    store_close(&store);
    tmp_dir_remove(dir);
    return CHECK_DONE();
}
