/* export.c — `wardpulse export`: the stored values, the rejections, or (--raw) every
 * message received, as CSV or JSON.
 *
 * Opens the aggregator's database read-only (db.h); in WAL mode that never blocks the
 * daemon and sees every committed transaction. Never creates a database: a wrong path is
 * an error, not an empty export. Table layout: store/store.h.
 *
 * CSV is opened in spreadsheets, and its text cells carry what wards and other MQTT
 * clients sent (payloads, topics, the reasons quoting them). A spreadsheet takes a cell
 * that begins with = + - @ (or a tab or CR, which some strip first) for a formula, so
 * such a text cell is written quoted with a leading ' (OWASP's rule against CSV
 * injection). Numeric columns (value, seq, payload_bytes) come from the database as
 * integers and are written as numbers, never altered: a negative number stays one.
 * JSON is exact, always.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "commands.h"
#include "db.h"
#include "options.h"
#include "timefmt.h"
#include "topic.h"
#include "utf8.h"

enum export_format { EXPORT_CSV, EXPORT_JSON };

struct export_options {
    struct cli_common common;   /* --db, --config */
    const char *db_path;
    enum export_format format;
    const char *from;       /* YYYY-MM-DD or NULL */
    const char *to;
    const char *ward;
    bool rejected;          /* the rejected table instead of the values */
    bool current;           /* only the values in force (not superseded) */
    bool raw;               /* every message received: reports and rejections */
};

/* Column kinds, so that JSON gets numbers and nulls right. */
enum export_kind { EXPORT_TEXT, EXPORT_INT };

struct export_query {
    const char *sql;
    const char *const *columns;
    const enum export_kind *kinds;
    int column_count;
};

/* received_at: when the report reached the aggregator; committed_at: when the ward's
 * agent committed it (empty from older agents), the time timeliness is judged from. */
static const char *const export_value_columns[] = {
    "ward", "period", "indicator", "value", "stream", "seq", "received_at", "committed_at",
};
static const enum export_kind export_value_kinds[] = {
    EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT,
    EXPORT_TEXT,
};
/* A period is selected when it overlaps [from, to]: a week that straddles `from` is in. */
static const char export_values_sql[] =
    "SELECT v.ward, v.period, v.indicator, v.value, r.stream, r.seq, r.received_at, "
    "r.committed_at FROM report_values v JOIN reports r ON r.id = v.report_id "
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

/* The audit trail: every message as received, accepted or not, in arrival order. The
 * payload is a column of its own (text, or base64 when it is not UTF-8), written by
 * export_raw_payload. */
static const char *const export_raw_columns[] = {
    "received_at", "status", "topic", "ward", "stream", "seq", "reason", "payload_bytes",
    "payload_encoding", "payload",
};
static const enum export_kind export_raw_kinds[] = {
    EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_TEXT, EXPORT_INT, EXPORT_TEXT,
    EXPORT_INT, EXPORT_TEXT, EXPORT_TEXT,
};
#define EXPORT_RAW_COLUMNS ((int)(sizeof export_raw_columns / sizeof export_raw_columns[0]))
static const char export_raw_sql[] =
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

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse export [--db PATH] [--format csv|json] [--from DATE] [--to DATE]\n"
            "                        [--ward CODE] [--current | --rejected | --raw]\n"
            "\n"
            "Prints every value stored by wardpulse-aggregator, one row per report and\n"
            "indicator (the audit trail: superseded values included), with ward, period,\n"
            "indicator, value, stream, seq, received_at (when it reached the aggregator)\n"
            "and committed_at (when the ward's agent committed it; empty from older\n"
            "agents). Safe while the daemon runs.\n"
            "\n"
            "  --db PATH        the aggregator's database (default: db_path of --config,\n"
            "                   else " CLI_DEFAULT_DB_PATH "); never created\n"
            "  --config FILE    the aggregator's configuration (default\n"
            "                   " CLI_DEFAULT_CONFIG ", if it exists)\n"
            "  --format FORMAT  csv (default; with a header line) or json (an array);\n"
            "                   in CSV a text cell that begins with = + - @, a tab or a\n"
            "                   CR is written as '... (quoted), so that a spreadsheet\n"
            "                   shows it instead of running it as a formula; numbers are\n"
            "                   written as numbers; JSON is always exact\n"
            "  --from DATE      only periods that end on or after DATE (YYYY-MM-DD)\n"
            "  --to DATE        only periods that start on or before DATE\n"
            "  --ward CODE      only this ward (e.g. 00001)\n"
            "  --current        only the values in force: for each ward, period and\n"
            "                   indicator, the latest observed_at (then the latest arrival)\n"
            "  --rejected       the rejected messages instead: received_at, topic, ward,\n"
            "                   stream, seq, reason (--from/--to select the day received)\n"
            "  --raw            the audit trail: every message received, in arrival order,\n"
            "                   accepted reports and rejected messages alike (status\n"
            "                   accepted|rejected, with the reason): received_at, status,\n"
            "                   topic, ward, stream, seq, reason, payload_bytes (as\n"
            "                   received), payload_encoding (utf-8, or base64 for a payload\n"
            "                   that is not UTF-8 text) and payload, exactly as stored (a\n"
            "                   rejected payload is cut at max_payload); --from/--to select\n"
            "                   the day received\n"
            "  -h, --help       this text\n");
}

/* Accepts "--name value" and "--name=value". Returns 1 and sets *value, 0 when argv[*i]
 * is another option, -1 when the value is missing (printed). */
static int export_option_value(int argc, char **argv, int *i, const char *name,
                               const char **value)
{
    return cli_option("export", argc, argv, i, name, value);
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
    o->common.command = "export";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int got;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if (strcmp(argv[i], "--rejected") == 0) {
            o->rejected = true;
        } else if (strcmp(argv[i], "--current") == 0) {
            o->current = true;
        } else if (strcmp(argv[i], "--raw") == 0) {
            o->raw = true;
        } else if ((got = export_option_value(argc, argv, &i, "--db", &v)) != 0) {
            if (got < 0)
                return 2;
            o->common.db_path = v;
        } else if ((got = export_option_value(argc, argv, &i, "--config", &v)) != 0) {
            if (got < 0)
                return 2;
            o->common.config_path = v;
        } else if ((got = export_option_value(argc, argv, &i, "--format", &v)) != 0) {
            if (got < 0)
                return 2;
            if (strcmp(v, "csv") == 0) {
                o->format = EXPORT_CSV;
            } else if (strcmp(v, "json") == 0) {
                o->format = EXPORT_JSON;
            } else {
                fprintf(stderr, "wardpulse export: --format: '%s' is not csv or json\n", v);
                return 2;
            }
        } else if ((got = export_option_value(argc, argv, &i, "--from", &v)) != 0) {
            if (got < 0)
                return 2;
            if (!export_check_date("--from", v))
                return 2;
            o->from = v;
        } else if ((got = export_option_value(argc, argv, &i, "--to", &v)) != 0) {
            if (got < 0)
                return 2;
            if (!export_check_date("--to", v))
                return 2;
            o->to = v;
        } else if ((got = export_option_value(argc, argv, &i, "--ward", &v)) != 0) {
            if (got < 0)
                return 2;
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
    if (o->rejected + o->current + o->raw > 1) {
        fprintf(stderr, "wardpulse export: --current, --rejected and --raw exclude each "
                "other\n");
        return 2;
    }
    int rc = cli_common_finish(&o->common);
    o->db_path = o->common.db_path;
    return rc;
}

/* Writes one CSV text field, quoted when RFC 4180 requires it, and neutralised (quoted,
 * with a leading ') when a spreadsheet would take it for a formula. */
static void export_csv_field(FILE *out, const char *s)
{
    if (!s)
        return;
    bool formula = s[0] && strchr("=+-@\t\r", s[0]);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* One cell: an integer column as the number SQLite holds (empty when NULL), a text column
 * through export_csv_field. */
static void export_csv_cell(FILE *out, sqlite3_stmt *stmt, int c, enum export_kind kind)
{
    if (kind == EXPORT_INT) {
        if (sqlite3_column_type(stmt, c) != SQLITE_NULL)
            fprintf(out, "%lld", (long long)sqlite3_column_int64(stmt, c));
        return;
    }
    export_csv_field(out, (const char *)sqlite3_column_text(stmt, c));
}

static void export_csv_row(FILE *out, sqlite3_stmt *stmt, const struct export_query *q)
{
    for (int c = 0; c < q->column_count; c++) {
        if (c)
            fputc(',', out);
        export_csv_cell(out, stmt, c, q->kinds[c]);
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

/* The payload at column c as text: itself when it is UTF-8 without NUL bytes (every
 * accepted report), else base64; *encoding says which. NULL on no memory; caller frees. */
static char *export_raw_payload(sqlite3_stmt *stmt, int c, const char **encoding)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = sqlite3_column_blob(stmt, c);
    size_t n = (size_t)sqlite3_column_bytes(stmt, c);
    if (!p)
        p = (const unsigned char *)"";
    if (wp_utf8_invalid_at(p, n) == n && !memchr(p, '\0', n)) {
        *encoding = "utf-8";
        char *text = malloc(n + 1);
        if (text) {
            memcpy(text, p, n);
            text[n] = '\0';
        }
        return text;
    }
    *encoding = "base64";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; out && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0)
                     | (i + 2 < n ? p[i + 2] : 0);
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? alphabet[v & 63] : '=';
    }
    if (out)
        *o = '\0';
    return out;
}

/* One row of --raw; false on no memory. */
static bool export_raw_row(FILE *out, sqlite3_stmt *stmt, enum export_format format,
                           bool first)
{
    const char *encoding;
    char *payload = export_raw_payload(stmt, EXPORT_RAW_COLUMNS - 2, &encoding);
    if (!payload)
        return false;
    bool ok = true;
    if (format == EXPORT_CSV) {
        for (int c = 0; c < EXPORT_RAW_COLUMNS - 2; c++) {
            export_csv_cell(out, stmt, c, export_raw_kinds[c]);
            fputc(',', out);
        }
        fprintf(out, "%s,", encoding);
        export_csv_field(out, payload);
        fputc('\n', out);
    } else {
        cJSON *row = cJSON_CreateObject();
        ok = row != NULL;
        for (int c = 0; ok && c < EXPORT_RAW_COLUMNS - 2; c++) {
            const char *name = export_raw_columns[c];
            if (sqlite3_column_type(stmt, c) == SQLITE_NULL)
                ok = cJSON_AddNullToObject(row, name) != NULL;
            else if (export_raw_kinds[c] == EXPORT_INT)
                ok = cJSON_AddNumberToObject(row, name,
                                             (double)sqlite3_column_int64(stmt, c)) != NULL;
            else
                ok = cJSON_AddStringToObject(row, name,
                                             (const char *)sqlite3_column_text(stmt, c)) != NULL;
        }
        ok = ok && cJSON_AddStringToObject(row, "payload_encoding", encoding)
             && cJSON_AddStringToObject(row, "payload", payload);
        char *text = ok ? cJSON_PrintUnformatted(row) : NULL;
        cJSON_Delete(row);
        ok = text != NULL;
        if (ok)
            fprintf(out, "%s\n  %s", first ? "[" : ",", text);
        free(text);
    }
    free(payload);
    return ok;
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
    if (o->raw)
        q = (struct export_query){export_raw_sql, export_raw_columns, export_raw_kinds,
                                  EXPORT_RAW_COLUMNS};
    sqlite3_stmt *stmt = cli_db_prepare(db, "export", q.sql);
    if (!stmt)
        return 1;
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
        if (o->raw) {
            if (!export_raw_row(stdout, stmt, o->format, first)) {
                fprintf(stderr, "wardpulse export: out of memory\n");
                status = 1;
                break;
            }
        } else if (o->format == EXPORT_CSV) {
            export_csv_row(stdout, stmt, &q);
        } else if (!export_json_row(stdout, stmt, &q, first)) {
            fprintf(stderr, "wardpulse export: out of memory\n");
            status = 1;
            break;
        }
        first = false;
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = cli_db_fail(db, "export");
    if (o->format == EXPORT_JSON)
        fputs(first ? "[]\n" : "\n]\n", stdout);
    sqlite3_finalize(stmt);
    return status;
}

int cli_export(int argc, char **argv)
{
    struct export_options o;
    int rc = export_parse_args(argc, argv, &o);
    if (rc < 0) {
        export_usage(stdout);
        cli_common_free(&o.common);
        return 0;
    }

    /* The values carry committed_at from schema version 5 on. */
    struct store *store = rc == 0 ? cli_db_open("export", o.db_path,
                                                o.rejected || o.raw ? 1 : 5)
                                  : NULL;
    if (store)
        rc = export_run(store_db(store), &o);
    else if (rc == 0)
        rc = 1;
    store_close(&store);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "wardpulse export: writing the output: %s\n", strerror(errno));
        rc = 1;
    }
    cli_common_free(&o.common);
    return rc;
}
