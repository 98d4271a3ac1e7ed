/* export.c — `wardpulse export`: the stored values (or rejections) as CSV or JSON.
 *
 * Opens the aggregator's database read-only; in WAL mode that never blocks the daemon
 * and sees every committed transaction. Never creates a database: a wrong path is an
 * error, not an empty export. Table layout: aggregator/store.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "commands.h"
#include "timefmt.h"
#include "topic.h"

enum export_format { EXPORT_CSV, EXPORT_JSON };

struct export_options {
    const char *db_path;
    enum export_format format;
    const char *from;       /* YYYY-MM-DD or NULL */
    const char *to;
    const char *ward;
    bool rejected;          /* the rejected table instead of the values */
    bool current;           /* only the values in force (not superseded) */
};

/* Column kinds, so that JSON gets numbers and nulls right. */
enum export_kind { EXPORT_TEXT, EXPORT_INT };

struct export_query {
    const char *sql;
    const char *const *columns;
    const enum export_kind *kinds;
    int column_count;
};

static const char *const export_value_columns[] = {
    "ward", "period", "indicator", "value", "stream", "seq", "received_at",
};
static const enum export_kind export_value_kinds[] = {
    EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT,
};
/* A period is selected when it overlaps [from, to]: a week that straddles `from` is in. */
static const char export_values_sql[] =
    "SELECT v.ward, v.period, v.indicator, v.value, r.stream, r.seq, r.received_at "
    "FROM report_values v JOIN reports r ON r.id = v.report_id "
    "WHERE (?1 IS NULL OR r.period_last >= ?1) AND (?2 IS NULL OR r.period_first <= ?2) "
    "AND (?3 IS NULL OR v.ward = ?3) "
    "AND (?4 = 0 OR EXISTS (SELECT 1 FROM current_values c WHERE c.ward = v.ward "
    "     AND c.period = v.period AND c.indicator = v.indicator AND c.report_id = r.id)) "
    "ORDER BY v.ward, r.period_first, v.period, v.indicator, r.id";

static const char *const export_rejected_columns[] = {
    "received_at", "topic", "ward", "stream", "seq", "reason",
};
static const enum export_kind export_rejected_kinds[] = {
    EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT,
};
/* For rejections --from/--to select by the local day they were received. */
static const char export_rejected_sql[] =
    "SELECT received_at, topic, ward, stream, seq, reason FROM rejected "
    "WHERE (?1 IS NULL OR substr(received_at, 1, 10) >= ?1) "
    "AND (?2 IS NULL OR substr(received_at, 1, 10) <= ?2) "
    "AND (?3 IS NULL OR ward = ?3) AND ?4 = ?4 "
    "ORDER BY id";

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse export --db PATH [--format csv|json] [--from DATE] [--to DATE]\n"
            "                        [--ward CODE] [--current | --rejected]\n"
            "\n"
            "Prints every value stored by wardpulse-aggregator, one row per report and\n"
            "indicator (the audit trail: superseded values included), with ward, period,\n"
            "indicator, value, stream, seq and received_at. Safe while the daemon runs.\n"
            "\n"
            "  --db PATH        the aggregator's database (db_path); never created\n"
            "  --format FORMAT  csv (default; with a header line) or json (an array)\n"
            "  --from DATE      only periods that end on or after DATE (YYYY-MM-DD)\n"
            "  --to DATE        only periods that start on or before DATE\n"
            "  --ward CODE      only this ward (e.g. 00001)\n"
            "  --current        only the values in force: for each ward, period and\n"
            "                   indicator, the latest observed_at (then the latest arrival)\n"
            "  --rejected       the rejected messages instead: received_at, topic, ward,\n"
            "                   stream, seq, reason (--from/--to select the day received)\n"
            "  -h, --help       this text\n");
}

/* Accepts "--name value" and "--name=value". Returns the value or NULL. */
static const char *export_option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wardpulse export: %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

static bool export_check_date(const char *option, const char *value)
{
    if (wp_date_parse(value, NULL))
        return true;
    fprintf(stderr, "wardpulse export: %s: '%s' is not a date (YYYY-MM-DD)\n", option, value);
    return false;
}

/* Returns 0 on success, 2 on a usage error (message printed), -1 for --help. */
static int export_parse_args(int argc, char **argv, struct export_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if (strcmp(argv[i], "--rejected") == 0) {
            o->rejected = true;
        } else if (strcmp(argv[i], "--current") == 0) {
            o->current = true;
        } else if ((v = export_option_value(argc, argv, &i, "--db"))) {
            o->db_path = v;
        } else if ((v = export_option_value(argc, argv, &i, "--format"))) {
            if (strcmp(v, "csv") == 0) {
                o->format = EXPORT_CSV;
            } else if (strcmp(v, "json") == 0) {
                o->format = EXPORT_JSON;
            } else {
                fprintf(stderr, "wardpulse export: --format: '%s' is not csv or json\n", v);
                return 2;
            }
        } else if ((v = export_option_value(argc, argv, &i, "--from"))) {
            if (!export_check_date("--from", v))
                return 2;
            o->from = v;
        } else if ((v = export_option_value(argc, argv, &i, "--to"))) {
            if (!export_check_date("--to", v))
                return 2;
            o->to = v;
        } else if ((v = export_option_value(argc, argv, &i, "--ward"))) {
            if (!wp_unit_code_valid(v)) {
                fprintf(stderr, "wardpulse export: --ward: '%s' is not a unit code (e.g. "
                        "00001)\n", v);
                return 2;
            }
            o->ward = v;
        } else {
            fprintf(stderr, "wardpulse export: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!o->db_path) {
        fprintf(stderr, "wardpulse export: --db PATH is required (see --help)\n");
        return 2;
    }
    if (o->rejected && o->current) {
        fprintf(stderr, "wardpulse export: --current and --rejected exclude each other\n");
        return 2;
    }
    return 0;
}

/* Writes one CSV field, quoted when RFC 4180 requires it. */
static void export_csv_field(FILE *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void export_csv_row(FILE *out, sqlite3_stmt *stmt, const struct export_query *q)
{
    for (int c = 0; c < q->column_count; c++) {
        if (c)
            fputc(',', out);
        export_csv_field(out, (const char *)sqlite3_column_text(stmt, c));
    }
    fputc('\n', out);
}

/* One object per row; false on no memory. */
static bool export_json_row(FILE *out, sqlite3_stmt *stmt, const struct export_query *q,
                            bool first)
{
    cJSON *row = cJSON_CreateObject();
    if (!row)
        return false;
    bool ok = true;
    for (int c = 0; ok && c < q->column_count; c++) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL)
            ok = cJSON_AddNullToObject(row, q->columns[c]) != NULL;
        else if (q->kinds[c] == EXPORT_INT)
            ok = cJSON_AddNumberToObject(row, q->columns[c],
                                         (double)sqlite3_column_int64(stmt, c)) != NULL;
        else
            ok = cJSON_AddStringToObject(row, q->columns[c],
                                         (const char *)sqlite3_column_text(stmt, c)) != NULL;
    }
    char *text = ok ? cJSON_PrintUnformatted(row) : NULL;
    cJSON_Delete(row);
    if (!text)
        return false;
    fprintf(out, "%s\n  %s", first ? "[" : ",", text);
    free(text);
    return true;
}

static int export_run(sqlite3 *db, const struct export_options *o)
{
    struct export_query q = {export_values_sql, export_value_columns, export_value_kinds,
                             (int)(sizeof export_value_columns / sizeof export_value_columns[0])};
    if (o->rejected)
        q = (struct export_query){export_rejected_sql, export_rejected_columns,
                                  export_rejected_kinds,
                                  (int)(sizeof export_rejected_columns
                                        / sizeof export_rejected_columns[0])};
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, q.sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "wardpulse export: %s: %s\n", o->db_path, sqlite3_errmsg(db));
        return 1;
    }
    if (o->from)
        sqlite3_bind_text(stmt, 1, o->from, -1, SQLITE_STATIC);
    if (o->to)
        sqlite3_bind_text(stmt, 2, o->to, -1, SQLITE_STATIC);
    if (o->ward)
        sqlite3_bind_text(stmt, 3, o->ward, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, o->current);

    if (o->format == EXPORT_CSV)
        for (int c = 0; c < q.column_count; c++)
            printf("%s%s", c ? "," : "", q.columns[c]);
    if (o->format == EXPORT_CSV)
        putchar('\n');

    int rc, status = 0;
    bool first = true;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (o->format == EXPORT_CSV) {
            export_csv_row(stdout, stmt, &q);
        } else if (!export_json_row(stdout, stmt, &q, first)) {
            fprintf(stderr, "wardpulse export: out of memory\n");
            status = 1;
            break;
        }
        first = false;
    }
    if (status == 0 && rc != SQLITE_DONE) {
        fprintf(stderr, "wardpulse export: %s: %s\n", o->db_path, sqlite3_errmsg(db));
        status = 1;
    }
    if (o->format == EXPORT_JSON)
        fputs(first ? "[]\n" : "\n]\n", stdout);
    sqlite3_finalize(stmt);
    return status;
}

/* The schema version, or -1 with a message printed. */
static int export_schema_version(sqlite3 *db, const char *path)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    else
        fprintf(stderr, "wardpulse export: %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    return version;
}

int cli_export(int argc, char **argv)
{
    struct export_options o;
    int rc = export_parse_args(argc, argv, &o);
    if (rc < 0) {
        export_usage(stdout);
        return 0;
    }
    if (rc)
        return rc;

    /* SQLITE_OPEN_READONLY alone would not create it either, but its error ("unable to
     * open database file") does not say that the path is simply wrong. */
    struct stat st;
    if (stat(o.db_path, &st) != 0) {
        fprintf(stderr, "wardpulse export: database %s: %s\n", o.db_path,
                errno == ENOENT ? "does not exist (see db_path in the aggregator's config)"
                                : strerror(errno));
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(o.db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "wardpulse export: %s: %s\n", o.db_path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    int version = export_schema_version(db, o.db_path);
    if (version == 0)
        fprintf(stderr, "wardpulse export: %s is not a wardpulse database (no schema)\n",
                o.db_path);
    rc = version > 0 ? export_run(db, &o) : 1;
    sqlite3_close(db);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "wardpulse export: writing the output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
