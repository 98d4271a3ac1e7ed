/* test_store_migration.c — migration 7 (the lean store) on a copy of a version-3
 * database: tests/data/aggregator-v3.sql (what wardpulse 0.1.0 left: two reports and a
 * rejection of ward 00001) with more reports written as the version-3 store wrote them
 * (a row in reports, one per value in report_values, the value in force upserted into
 * current_values: the later observed_at wins). What the old tables said is read before
 * store_open migrates the file; after it every report and value must read the same —
 * through the view report_values, `wardpulse export` (every value
 * with its report, and those in force), what the rules read (store_each_value_in/of)
 * and the first arrival of each figure (store_schedule_each_arrival). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "store.h"
#include "store_read.h"
#include "store_schedule.h"
#include "tmp_dir.h"

static char db_path[256];

/* A string that grows; rows end with '\n', cells with '|'. */
struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->s, cap);
        if (!grown)
            abort();
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_cell(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
    text_add(t, "|", 1);
}

static void text_int(struct text *t, long long n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", n);
    text_cell(t, buf);
}

/* Every row of sql on the file, over a connection of its own. */
static struct text query(const char *sql)
{
    struct text t = {NULL, 0, 0};
    text_add(&t, "", 0);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        text_cell(&t, "ERROR");
    }
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            const unsigned char *s = sqlite3_column_text(stmt, i);
            text_cell(&t, s ? (const char *)s : "NULL");
        }
        text_add(&t, "\n", 1);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return t;
}

/* The first character of what sql answers. */
static char first_char(const char *sql)
{
    struct text t = query(sql);
    char c = t.s[0];
    free(t.s);
    return c;
}

static bool load_dump(sqlite3 *db)
{
    const char *src = getenv("WP_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/aggregator-v3.sql", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return false;
    }
    struct text sql = {NULL, 0, 0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        text_add(&sql, buf, n);
    fclose(f);
    bool ok = sqlite3_exec(db, sql.s, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr, "loading %s: %s\n", path, sqlite3_errmsg(db));
    free(sql.s);
    return ok;
}

/* One report as the version-3 store wrote it. values: "name=value,name=value". */
static bool add_v3(sqlite3 *db, int64_t id, const char *ward, const char *stream, int seq,
                   const char *period, const char *first, const char *last,
                   int observed_min, int64_t received_ms, const char *values)
{
    char observed_at[40], payload[1024], json_values[512] = "", sql[2048];
    snprintf(observed_at, sizeof observed_at, "2022-05-09T%02d:%02d:00+07:00",
             observed_min / 60, observed_min % 60);
    int64_t observed_ms = INT64_C(1652029200000) + (int64_t)observed_min * 60000;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", values);
    bool ok = true;
    for (char *save = NULL, *pair = strtok_r(copy, ",", &save); pair && ok;
         pair = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(pair, '=');
        *eq = '\0';
        size_t len = strlen(json_values);
        snprintf(json_values + len, sizeof json_values - len, "%s\"%s\": %s",
                 len ? ", " : "", pair, eq + 1);
        snprintf(sql, sizeof sql,
                 "INSERT INTO report_values VALUES (%lld, '%s', '%s', '%s', %s);"
                 "INSERT INTO current_values VALUES ('%s', '%s', '%s', %s, %lld, %lld) "
                 "ON CONFLICT (ward, period, indicator) DO UPDATE SET value = excluded.value, "
                 "report_id = excluded.report_id, observed_ms = excluded.observed_ms "
                 "WHERE excluded.observed_ms >= current_values.observed_ms",
                 (long long)id, ward, period, pair, eq + 1, ward, period, pair, eq + 1,
                 (long long)id, (long long)observed_ms);
        ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    }
    snprintf(payload, sizeof payload,
             "{\"v\": 1, \"ward\": \"%s\", \"stream\": \"%s\", \"seq\": %d, \"period\": \"%s\", "
             "\"observed_at\": \"%s\", \"values\": {%s}}",
             ward, stream, seq, period, observed_at, json_values);
    snprintf(sql, sizeof sql,
             "INSERT INTO reports VALUES (%lld, '%s', '%s', %d, '%s', '%s', '%s', '%s', %lld, "
             "'2022-05-09T20:00:00+07:00', %lld, 'wardpulse/v1/report/%s', '%s')",
             (long long)id, ward, stream, seq, period, first, last, observed_at,
             (long long)observed_ms, (long long)received_ms, ward, payload);
    if (ok && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        ok = false;
    }
    return ok;
}

static bool make_v3(void)
{
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(db_path, &db) == SQLITE_OK && load_dump(db);
    const int64_t t = INT64_C(1652101200000);
    /* Two wards, days and a week, a report superseded by a later observed_at, one whose
     * older observed_at does not supersede, and values a later report does not repeat. */
    ok = ok && add_v3(db, 10, "00002", "aaaaaaaaaaaaaaaa", 1, "2022-05-09", "2022-05-09",
                      "2022-05-09", 600, t, "cases_new_community=3,deaths=0,tests=12");
    ok = ok && add_v3(db, 11, "00002", "aaaaaaaaaaaaaaaa", 2, "2022-05-09", "2022-05-09",
                      "2022-05-09", 660, t + 1000, "cases_new_community=4,tests=15");
    ok = ok && add_v3(db, 12, "00002", "bbbbbbbbbbbbbbbb", 1, "2022-05-09", "2022-05-09",
                      "2022-05-09", 630, t + 2000, "tests=99");
    ok = ok && add_v3(db, 13, "00002", "aaaaaaaaaaaaaaaa", 3, "2022-W19", "2022-05-09",
                      "2022-05-15", 700, t + 3000, "cases_new_community=20,beds=-1");
    ok = ok && add_v3(db, 14, "00003", "cccccccccccccccc", 1, "2022-05-10", "2022-05-10",
                      "2022-05-10", 620, t + 4000, "deaths=2,tests=7");
    ok = ok && add_v3(db, 15, "00002", "aaaaaaaaaaaaaaaa", 4, "2022-05-10", "2022-05-10",
                      "2022-05-10", 640, t + 5000, "tests=1");
    sqlite3_close(db);
    return ok;
}

/* `wardpulse export` of the values, as cells "|"-joined. */
static int export_row(void *ctx, const struct store_cell *cells)
{
    struct text *t = ctx;
    int count;
    const struct store_column *columns = store_export_columns(STORE_EXPORT_VALUES, &count);
    for (int i = 0; i < count; i++) {
        if (cells[i].null)
            text_cell(t, "NULL");
        else if (columns[i].integer)
            text_int(t, cells[i].integer);
        else
            text_cell(t, cells[i].text);
    }
    text_add(t, "\n", 1);
    return 0;
}

static struct text export_values(bool current)
{
    struct text t = {NULL, 0, 0};
    text_add(&t, "", 0);
    struct store *store = NULL;
    char err[512];
    struct store_export_filter filter = {NULL, NULL, NULL, current};
    if (store_open_readonly(db_path, 1, &store, err, sizeof err) != WP_OK
        || store_read_export(store, STORE_EXPORT_VALUES, &filter, export_row, &t) != WP_OK)
        text_cell(&t, "ERROR");
    store_close(&store);
    return t;
}

static enum wp_err note_named(void *ctx, const char *name, int64_t value)
{
    text_cell(ctx, name);
    text_int(ctx, value);
    text_add(ctx, "\n", 1);
    return WP_OK;
}

static enum wp_err note_arrival(void *ctx, const char *indicator, int64_t judged_ms,
                                int64_t received_ms)
{
    text_cell(ctx, indicator);
    text_int(ctx, judged_ms);
    text_int(ctx, received_ms);
    text_add(ctx, "\n", 1);
    return WP_OK;
}

static bool same(const char *what, struct text *before, struct text *after)
{
    bool ok = strcmp(before->s, after->s) == 0;
    if (!ok)
        fprintf(stderr, "%s differs:\n--- before\n%s--- after\n%s", what, before->s, after->s);
    return ok;
}

/* The old tables' answers, ordered as the new readers order theirs. */
static const char history_sql[] =
    "SELECT v.ward, v.period, v.indicator, v.value, r.stream, r.seq, r.received_at, "
    "%s FROM report_values v JOIN reports r ON r.id = v.report_id "
    "ORDER BY v.ward, r.period_first, v.period, v.indicator, r.id";
static const char current_sql[] =
    "SELECT ward, period, indicator, value, report_id FROM current_values ORDER BY 1, 2, 3";
static const char export_current_sql[] =
    "SELECT v.ward, v.period, v.indicator, v.value, r.stream, r.seq, r.received_at, "
    "'NULL' FROM current_values v JOIN reports r ON r.id = v.report_id "
    "ORDER BY v.ward, r.period_first, v.period, v.indicator, r.id";
/* The audit trail: the columns version 3 had (later versions add some). */
static const char reports_sql[] =
    "SELECT id, ward, stream, seq, period, period_first, period_last, observed_at, "
    "observed_ms, received_at, received_ms, topic, payload FROM reports ORDER BY id";
static const char rejected_sql[] =
    "SELECT id, received_at, received_ms, topic, ward, stream, seq, reason, payload, "
    "payload_bytes FROM rejected ORDER BY id";
/* When each figure of a period first arrived (store_schedule.h): for 00002's week, its
 * days' figures count too. */
static const char arrival_sql[] =
    "SELECT indicator, MIN(received_ms), MIN(received_ms) FROM report_values v "
    "JOIN reports r ON r.id = v.report_id WHERE v.ward = '00002' "
    "AND (v.period = '2022-W19' OR v.period BETWEEN '2022-05-09' AND '2022-05-15') "
    "GROUP BY indicator ORDER BY indicator";

int main(void)
{
    char dir[] = "/tmp/wardpulse-test-store-migration-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(db_path, sizeof db_path, "%s/v3.db", dir);
    CHECK(make_v3());
    CHECK(first_char("PRAGMA user_version") == '3');

    char sql[1024];
    snprintf(sql, sizeof sql, history_sql, "NULL");
    struct text history = query(sql), current = query(current_sql);
    struct text export_current = query(export_current_sql), arrival = query(arrival_sql);
    struct text reports = query(reports_sql), rejected = query(rejected_sql);
    struct text in_period = query("SELECT indicator, value FROM current_values WHERE "
                                  "ward = '00002' AND period = '2022-05-09' ORDER BY 1");
    struct text series = query("SELECT period, value FROM current_values WHERE "
                               "ward = '00002' AND indicator = 'cases_new_community' "
                               "ORDER BY 1");
    CHECK(strstr(history.s, "00002|2022-05-09|tests|99|bbbbbbbbbbbbbbbb|1|") != NULL);
    CHECK(strstr(current.s, "00002|2022-05-09|tests|15|11|") != NULL);

    /* Migrate: the daemon's open. */
    struct store *store = NULL;
    char err[512];
    CHECK(store_open(db_path, &store, err, sizeof err) == WP_OK);
    if (!store) {
        fprintf(stderr, "store_open: %s\n", err);
        return CHECK_DONE();
    }
    CHECK(store_schema_version(store) == STORE_SCHEMA_VERSION);
    struct text after_in_period = {NULL, 0, 0}, after_series = {NULL, 0, 0};
    struct text after_arrival = {NULL, 0, 0};
    text_add(&after_in_period, "", 0);
    text_add(&after_series, "", 0);
    text_add(&after_arrival, "", 0);
    CHECK(store_each_value_in(store, "00002", "2022-05-09", note_named, &after_in_period)
          == WP_OK);
    CHECK(store_each_value_of(store, "00002", "cases_new_community", note_named,
                              &after_series) == WP_OK);
    CHECK(store_schedule_each_arrival(store, "00002", "2022-W19", note_arrival, &after_arrival)
          == WP_OK);
    store_close(&store);
    CHECK(first_char("PRAGMA user_version") == '0' + STORE_SCHEMA_VERSION);
    CHECK(first_char("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                     "name IN ('report_values', 'current_values')") == '0');
    /* One row per (unit, period): 00001's day, 00002's two days and week, 00003's day. */
    CHECK(first_char("SELECT count(*) FROM values_in_force") == '5');

    /* The audit trail is untouched; the values read the same. */
    struct text after[] = {
        query(reports_sql),
        query(rejected_sql),
        query(sql),
        export_values(false),
        export_values(true),
    };
    CHECK(same("reports", &reports, &after[0]));
    CHECK(same("rejected", &rejected, &after[1]));
    CHECK(same("report_values (view)", &history, &after[2]));
    CHECK(same("export of every value", &history, &after[3]));
    CHECK(same("export of the values in force", &export_current, &after[4]));
    CHECK(same("store_each_value_in", &in_period, &after_in_period));
    CHECK(same("store_each_value_of", &series, &after_series));
    CHECK(same("store_schedule_each_arrival", &arrival, &after_arrival));
    struct text *texts[] = {&history, &current, &export_current, &arrival, &reports, &rejected,
                            &in_period, &series, &after_in_period, &after_series,
                            &after_arrival};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        free(texts[i]->s);
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
        free(after[i].s);

    tmp_dir_remove(dir);
    return CHECK_DONE();
}
