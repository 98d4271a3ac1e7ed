/* spool_parse.c — a spool file's bytes judged whole (contract in spool_parse.h). */
#include "spool_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "intake.h"
#include "spool_csv.h"
#include "utf8.h"

#define SPOOL_JSON_INT_MAX 9007199254740991LL /* 2^53 - 1: exact in a JSON number */
#define SPOOL_TASK_PREFIX "task:"
#define SPOOL_NOTE_NAME "note"

/* Appended to a refused period: a spreadsheet likes to turn 2022-05-03 into its own
 * date format when the column is not formatted as text. */
#define SPOOL_PERIOD_HINT                                                                  \
    " (write a day as 2022-05-03 or an ISO week as 2022-W18; if a spreadsheet changed it, " \
    "format the period column as text)"

static bool spool_name_ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n <= e)
        return false;
    for (size_t i = 0; i < e; i++) {
        char ch = name[n - e + i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != ext[i])
            return false;
    }
    return true;
}

/* 1-based line and column (in bytes) of `at` within text. */
static void spool_position(const char *text, const char *at, int *line, int *column)
{
    *line = 1;
    const char *line_start = text;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n' || (*p == '\r' && (p + 1 >= at || p[1] != '\n'))) {
            (*line)++;
            line_start = p + 1;
        }
    }
    *column = (int)(at - line_start) + 1;
}


/* Binary garbage and legacy encodings stop here, with the line of the first bad byte. */
static bool spool_check_text(const char *text, size_t len, struct spool_problems *problems)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end) {
        size_t n = *p == 0 ? 0 : wp_utf8_sequence_length(p, (size_t)(end - p));
        if (n == 0) {
            int line, column;
            spool_position(text, (const char *)p, &line, &column);
            if (*p == 0)
                spool_problem(problems, line,
                              "a NUL byte at column %d: this is not a text file (the spool "
                              "takes CSV and JSON text files)",
                              column);
            else
                spool_problem(problems, line,
                              "not UTF-8 text (byte 0x%02X at column %d): save the file as "
                              "\"CSV UTF-8\" (or JSON in UTF-8)",
                              *p, column);
            return false;
        }
        p += n;
    }
    return true;
}

static enum wp_err spool_batch_add(struct spool_batch *b, struct wp_report *report, int line)
{
    /* Two arrays of one capacity: b->cap moves only when both have grown. */
    size_t reports_cap = b->cap, lines_cap = b->cap;
    if (!WP_ARRAY_RESERVE(b->reports, reports_cap, b->count + 1)
        || !WP_ARRAY_RESERVE(b->lines, lines_cap, b->count + 1))
        return WP_ERR_NOMEM;
    b->cap = reports_cap < lines_cap ? reports_cap : lines_cap;
    b->reports[b->count] = *report; /* moved: the batch owns it now */
    b->lines[b->count] = line;
    b->count++;
    memset(report, 0, sizeof *report);
    return WP_OK;
}

/* Validates the clerk document doc with the aggregator's decoder; WP_OK moves the report
 * into out. WP_ERR_INVALID: err holds the decoder's message. */
static enum wp_err spool_take_doc(const cJSON *doc, const char *ward, int line,
                                  struct spool_batch *out, char *err, size_t errlen)
{
    struct wp_report report;
    enum wp_err e = intake_report_from_json(doc, ward, &report, err, errlen);
    if (e == WP_OK)
        e = spool_batch_add(out, &report, line);
    wp_report_clear(&report);
    return e;
}

/* A refusal by the decoder as a problem; a refused period gets a hint. */
static void spool_refused(struct spool_problems *problems, int line, const char *what,
                          const char *err)
{
    bool period = strncmp(err, "period", 6) == 0;
    spool_problem(problems, line, "%s%s%s", what, err, period ? SPOOL_PERIOD_HINT : "");
}

/* ---- JSON ------------------------------------------------------------------------------ */

static enum wp_err spool_parse_json(const char *text, size_t len, const char *ward,
                                    struct spool_batch *out, struct spool_problems *problems)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    int line, column;
    if (!doc) {
        if (!end)
            return WP_ERR_NOMEM;
        spool_position(text, end, &line, &column);
        spool_problem(problems, line, "not valid JSON (at column %d)", column);
        return WP_OK;
    }
    while (end && end < text + len && strchr(" \t\r\n", *end))
        end++;
    enum wp_err e = WP_OK;
    char err[512];
    if (end && end < text + len) {
        spool_position(text, end, &line, &column);
        spool_problem(problems, line, "unexpected text after the JSON document (column %d)",
                      column);
    } else if (cJSON_IsArray(doc)) {
        int n = 0;
        const cJSON *item;
        cJSON_ArrayForEach(item, doc) {
            char what[48];
            snprintf(what, sizeof what, "report %d of the array: ", ++n);
            e = spool_take_doc(item, ward, 0, out, err, sizeof err);
            if (e == WP_ERR_INVALID)
                spool_refused(problems, 0, what, err);
            else if (e != WP_OK)
                break;
            e = WP_OK;
        }
        if (n == 0)
            spool_problem(problems, 0, "the array holds no report");
    } else {
        e = spool_take_doc(doc, ward, 0, out, err, sizeof err);
        if (e == WP_ERR_INVALID) {
            spool_refused(problems, 0, "", err);
            e = WP_OK;
        }
    }
    cJSON_Delete(doc);
    return e;
}

/* ---- CSV ------------------------------------------------------------------------------- */

/* Adds what row says to the clerk document doc ({"period":…, "values":{}}): a value, a
 * task state or the note. WP_ERR_INVALID after adding a problem when the row cannot be
 * read; WP_ERR_NOMEM. */
static enum wp_err spool_row_apply(cJSON *doc, const struct spool_row *row,
                                   struct spool_problems *problems)
{
    const char *name = row->indicator;
    if (name[0] == '\0') {
        spool_problem(problems, row->line, "the indicator column is empty");
        return WP_ERR_INVALID;
    }
    if (strcmp(name, SPOOL_NOTE_NAME) == 0)
        return cJSON_AddStringToObject(doc, "note", row->value) ? WP_OK : WP_ERR_NOMEM;
    size_t prefix = strlen(SPOOL_TASK_PREFIX);
    if (strncmp(name, SPOOL_TASK_PREFIX, prefix) == 0) {
        cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks");
        if (!tasks)
            tasks = cJSON_AddObjectToObject(doc, "tasks");
        return tasks && cJSON_AddStringToObject(tasks, name + prefix, row->value) ? WP_OK
                                                                                  : WP_ERR_NOMEM;
    }
    const char *v = row->value;
    const char *digits = v + (v[0] == '-');
    bool whole = digits[0] != '\0';
    for (const char *q = digits; *q && whole; q++)
        whole = *q >= '0' && *q <= '9';
    if (!whole) {
        spool_problem(problems, row->line,
                      "values.%.64s: '%.40s' is not a whole number (write digits only: no "
                      "thousands separators, no decimals)",
                      name, v);
        return WP_ERR_INVALID;
    }
    errno = 0;
    long long n = strtoll(v, NULL, 10);
    if (errno == ERANGE || n > SPOOL_JSON_INT_MAX || n < -SPOOL_JSON_INT_MAX) {
        spool_problem(problems, row->line, "values.%.64s: %.40s is too large", name, v);
        return WP_ERR_INVALID;
    }
    cJSON *values = cJSON_GetObjectItemCaseSensitive(doc, "values");
    return cJSON_AddNumberToObject(values, name, (double)n) ? WP_OK : WP_ERR_NOMEM;
}

static cJSON *spool_period_doc(const char *period)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc && (!cJSON_AddStringToObject(doc, "period", period) ||
                !cJSON_AddObjectToObject(doc, "values"))) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

static int spool_by_period_then_line(const void *a, const void *b)
{
    const struct spool_row *x = *(const struct spool_row *const *)a;
    const struct spool_row *y = *(const struct spool_row *const *)b;
    int c = strcmp(x->period, y->period);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int spool_by_name_then_line(const void *a, const void *b)
{
    const struct spool_row *x = *(const struct spool_row *const *)a;
    const struct spool_row *y = *(const struct spool_row *const *)b;
    int c = strcmp(x->indicator, y->indicator);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* The same indicator (or task, or note) twice for one period: which one was meant? */
static enum wp_err spool_check_twice(const struct spool_row **rows, size_t n,
                                     struct spool_problems *problems)
{
    const struct spool_row **by_name = malloc(n * sizeof *by_name);
    if (!by_name)
        return WP_ERR_NOMEM;
    memcpy(by_name, rows, n * sizeof *by_name);
    qsort(by_name, n, sizeof *by_name, spool_by_name_then_line);
    for (size_t i = 1; i < n; i++)
        if (strcmp(by_name[i]->indicator, by_name[i - 1]->indicator) == 0)
            spool_problem(problems, by_name[i]->line, "%.64s for %s is given twice (first on line %d)",
                          by_name[i]->indicator, by_name[i]->period, by_name[i - 1]->line);
    free(by_name);
    return WP_OK;
}

/* Each row of a refused report judged alone, so that every line at fault is named. */
static enum wp_err spool_judge_rows(const struct spool_row **rows, size_t n, const char *ward,
                                    struct spool_problems *problems)
{
    enum wp_err e = WP_OK;
    char err[512];
    for (size_t i = 0; i < n && e == WP_OK; i++) {
        cJSON *one = spool_period_doc(rows[i]->period);
        struct spool_batch scratch;
        memset(&scratch, 0, sizeof scratch);
        /* A row that cannot be read was named when the whole report was built. */
        struct spool_problems named_before;
        memset(&named_before, 0, sizeof named_before);
        e = one ? spool_row_apply(one, rows[i], &named_before) : WP_ERR_NOMEM;
        spool_problems_free(&named_before);
        if (e == WP_OK) {
            e = spool_take_doc(one, ward, rows[i]->line, &scratch, err, sizeof err);
            if (e == WP_ERR_INVALID)
                spool_refused(problems, rows[i]->line, "", err);
        }
        if (e == WP_ERR_INVALID)
            e = WP_OK; /* named; go on with the next row */
        spool_batch_free(&scratch);
        cJSON_Delete(one);
    }
    return e;
}

/* One period's rows (in line order) into one report: the period first (a bad one is
 * named once, not once per row), then rows given twice, then the report as a whole. */
static enum wp_err spool_csv_group(const struct spool_row **rows, size_t n, const char *ward,
                                   struct spool_batch *out, struct spool_problems *problems)
{
    const char *period = rows[0]->period;
    int first_line = rows[0]->line;
    size_t before = problems->count;
    char err[512];
    struct spool_batch scratch;
    memset(&scratch, 0, sizeof scratch);
    if (period[0] == '\0') {
        spool_problem(problems, first_line, "the period column is empty");
        return WP_OK;
    }
    cJSON *doc = spool_period_doc(period);
    if (!doc)
        return WP_ERR_NOMEM;
    enum wp_err e = spool_take_doc(doc, ward, first_line, &scratch, err, sizeof err);
    if (e == WP_ERR_INVALID) {
        spool_refused(problems, first_line, "", err);
        e = WP_OK;
        goto cleanup;
    }
    if (e == WP_OK)
        e = spool_check_twice(rows, n, problems);
    for (size_t i = 0; i < n && e == WP_OK; i++) {
        e = spool_row_apply(doc, rows[i], problems);
        if (e == WP_ERR_INVALID)
            e = WP_OK; /* named; go on to name the others */
    }
    if (e == WP_OK && problems->count > before)
        e = spool_judge_rows(rows, n, ward, problems); /* the readable rows' values too */
    if (e != WP_OK || problems->count > before)
        goto cleanup;

    e = spool_take_doc(doc, ward, first_line, out, err, sizeof err);
    if (e == WP_ERR_INVALID) {
        e = spool_judge_rows(rows, n, ward, problems);
        /* Every row fine alone but not together (a report too large, say): the whole
         * report's reason, at its first line. */
        if (e == WP_OK && problems->count == before)
            spool_problem(problems, first_line, "the report for %s: %s", period, err);
    }

cleanup:
    spool_batch_free(&scratch);
    cJSON_Delete(doc);
    return e;
}

struct spool_group {
    size_t start, end; /* rows[start .. end) of one period */
    int first_line;
};

static int spool_group_by_first_line(const void *a, const void *b)
{
    const struct spool_group *x = a, *y = b;
    return (x->first_line > y->first_line) - (x->first_line < y->first_line);
}

static enum wp_err spool_parse_csv(const char *text, size_t len, const char *ward,
                                   struct spool_batch *out, struct spool_problems *problems)
{
    struct spool_table table;
    const struct spool_row **rows = NULL;
    struct spool_group *groups = NULL;
    size_t n = 0, group_count = 0;
    enum wp_err e = spool_csv_read(text, len, &table, problems);
    if (e != WP_OK || problems->count > 0)
        goto cleanup;
    rows = malloc((table.count ? table.count : 1) * sizeof *rows);
    groups = malloc((table.count ? table.count : 1) * sizeof *groups);
    if (!rows || !groups) {
        e = WP_ERR_NOMEM;
        goto cleanup;
    }
    /* A row without a value is an empty cell of a template: no figure, nothing to send. */
    for (size_t i = 0; i < table.count; i++)
        if (table.rows[i].value[0] != '\0')
            rows[n++] = &table.rows[i];
    if (n == 0) {
        spool_problem(problems, 0, "no figures: no row under the header has a value");
        goto cleanup;
    }
    /* One report per period, in the order the periods first appear in the file. */
    qsort(rows, n, sizeof *rows, spool_by_period_then_line);
    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && strcmp(rows[end]->period, rows[start]->period) == 0)
            end++;
        groups[group_count++] = (struct spool_group){start, end, rows[start]->line};
        start = end;
    }
    qsort(groups, group_count, sizeof *groups, spool_group_by_first_line);
    for (size_t g = 0; g < group_count && e == WP_OK; g++)
        e = spool_csv_group(rows + groups[g].start, groups[g].end - groups[g].start, ward, out,
                            problems);

cleanup:
    free(groups);
    free(rows);
    spool_table_free(&table);
    return e;
}

/* ---- the file ---------------------------------------------------------------------------- */

enum wp_err spool_parse(const char *name, const char *bytes, size_t len, const char *ward,
                        struct spool_batch *out, struct spool_problems *problems)
{
    memset(out, 0, sizeof *out);
    bool json = spool_name_ends_with(name, ".json");
    bool csv = spool_name_ends_with(name, ".csv");
    enum wp_err e = WP_OK;
    if (!json && !csv) {
        spool_problem(problems, 0,
                      "the spool takes .csv and .json files only (a spreadsheet must be saved "
                      "as \"CSV UTF-8\"; see docs/spool.md)");
        return WP_OK;
    }
    if (!spool_check_text(bytes, len, problems))
        return WP_OK;
    if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
        bytes += 3; /* the BOM Excel writes at the start of "CSV UTF-8" */
        len -= 3;
    }
    e = json ? spool_parse_json(bytes, len, ward, out, problems)
             : spool_parse_csv(bytes, len, ward, out, problems);
    if (e != WP_OK || problems->count > 0)
        spool_batch_free(out); /* nothing of a refused file is taken */
    return e;
}

void spool_batch_free(struct spool_batch *b)
{
    for (size_t i = 0; i < b->count; i++)
        wp_report_clear(&b->reports[i]);
    free(b->reports);
    free(b->lines);
    memset(b, 0, sizeof *b);
}

/* How many bytes a UTF-8 sequence starting with lead has (0: not a lead byte). */
static size_t spool_utf8_lead_length(unsigned char lead)
{
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

bool spool_parse_incomplete(const char *name, const char *bytes, size_t len)
{
    if (!spool_name_ends_with(name, ".csv") || len == 0 || bytes[len - 1] == '\n' ||
        bytes[len - 1] == '\r')
        return false;
    const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
    while (p < end) {
        size_t n = *p == 0 ? 0 : wp_utf8_sequence_length(p, (size_t)(end - p));
        if (n > 0) {
            p += n;
            continue;
        }
        if (*p == 0)
            return false;
        /* The writer may have stopped inside a character: a lead byte and fewer than all
         * of its continuation bytes, at the very end, is text still being written. */
        size_t want = spool_utf8_lead_length(*p), have = (size_t)(end - p);
        if (want == 0 || have >= want)
            return false;
        for (size_t i = 1; i < have; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        return true;
    }
    return true;
}
