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

/* One cell: an integer column as the number the database holds (empty when NULL), a
 * text column through export_csv_field. */
static void export_csv_cell(FILE *out, const struct store_cell *cell,
                            const struct store_column *column)
{
    if (column->integer) {
        if (!cell->null)
            fprintf(out, "%lld", (long long)cell->integer);
        return;
    }
    export_csv_field(out, cell->text);
}

/* Adds one cell to a JSON row; false on no memory. */
static bool export_json_cell(cJSON *row, const struct store_cell *cell,
                             const struct store_column *column)
{
    if (cell->null)
        return cJSON_AddNullToObject(row, column->name) != NULL;
    if (column->integer)
        return cJSON_AddNumberToObject(row, column->name, (double)cell->integer) != NULL;
    return cJSON_AddStringToObject(row, column->name, cell->text ? cell->text : "") != NULL;
}

/* The payload cell as text: itself when it is UTF-8 without NUL bytes (every accepted
 * report), else base64; *encoding says which. NULL on no memory; caller frees. */
static char *export_raw_payload(const struct store_cell *cell, const char **encoding)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)cell->text;
    size_t n = cell->bytes;
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

struct export_writer {
    const struct export_options *o;
    enum store_export which;
    const struct store_column *columns;
    int count;                  /* of columns; the raw payload is the last */
    bool first;
};

/* One row: CSV or JSON; the audit trail's payload as text or base64, with its encoding
 * in a column of its own before it. Non-zero on no memory. */
static int export_row(void *ctx, const struct store_cell *cells)
{
    struct export_writer *w = ctx;
    bool raw = w->which == STORE_EXPORT_RAW;
    int plain = raw ? w->count - 1 : w->count;
    const char *encoding = NULL;
    char *payload = raw ? export_raw_payload(&cells[plain], &encoding) : NULL;
    if (raw && !payload)
        return 1;
    bool ok = true;
    if (w->o->format == EXPORT_CSV) {
        for (int c = 0; c < plain; c++) {
            if (c)
                fputc(',', stdout);
            export_csv_cell(stdout, &cells[c], &w->columns[c]);
        }
        if (raw) {
            fprintf(stdout, ",%s,", encoding);
            export_csv_field(stdout, payload);
        }
        fputc('\n', stdout);
    } else {
        cJSON *row = cJSON_CreateObject();
        ok = row != NULL;
        for (int c = 0; ok && c < plain; c++)
            ok = export_json_cell(row, &cells[c], &w->columns[c]);
        if (ok && raw)
            ok = cJSON_AddStringToObject(row, "payload_encoding", encoding)
                 && cJSON_AddStringToObject(row, "payload", payload);
        char *text = ok ? cJSON_PrintUnformatted(row) : NULL;
        cJSON_Delete(row);
        ok = text != NULL;
        if (ok)
            fprintf(stdout, "%s\n  %s", w->first ? "[" : ",", text);
        free(text);
    }
    free(payload);
    w->first = false;
    return ok ? 0 : 1;
}

static int export_run(struct store *store, const struct export_options *o)
{
    struct export_writer w = {o, o->rejected ? STORE_EXPORT_REJECTED
                                 : o->raw    ? STORE_EXPORT_RAW
                                             : STORE_EXPORT_VALUES, NULL, 0, true};
    w.columns = store_export_columns(w.which, &w.count);
    if (o->format == EXPORT_CSV) {
        for (int c = 0; c < w.count; c++) {
            if (w.which == STORE_EXPORT_RAW && c == w.count - 1)
                fputs(",payload_encoding", stdout);
            printf("%s%s", c ? "," : "", w.columns[c].name);
        }
        putchar('\n');
    }
    struct store_export_filter filter = {o->from, o->to, o->ward, o->current};
    enum wp_err err = store_read_export(store, w.which, &filter, export_row, &w);
    int status = err == WP_OK ? 0 : cli_db_fail(store, "export", err);
    if (o->format == EXPORT_JSON)
        fputs(w.first ? "[]\n" : "\n]\n", stdout);
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

    /* The values are read through values_in_force from schema version 7 on (store.h). */
    struct store *store = rc == 0 ? cli_db_open("export", o.db_path,
                                                o.rejected || o.raw ? 1 : 7)
                                  : NULL;
    if (store)
        rc = export_run(store, &o);
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
