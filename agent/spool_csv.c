/* spool_csv.c — splitting a clerk's CSV into rows (contract in spool_csv.h). */
#include "spool_csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

enum { SPOOL_COL_PERIOD, SPOOL_COL_INDICATOR, SPOOL_COL_VALUE, SPOOL_COLS };
static const char *const spool_csv_column_names[SPOOL_COLS] = {"period", "indicator", "value"};

/* A record's fields as one buffer of NUL-separated strings plus their offsets, reused
 * from record to record. */
struct spool_record {
    char *buf;
    size_t len, cap;
    size_t *starts;
    size_t count, starts_cap;
    int line;
};

struct spool_cursor {
    const char *p, *end;
    int line;
    char sep;
};

static bool spool_record_put(struct spool_record *r, char c)
{
    if (!WP_ARRAY_RESERVE(r->buf, r->cap, r->len + 2))   /* the character and a NUL */
        return false;
    r->buf[r->len++] = c;
    return true;
}

static bool spool_record_begin_field(struct spool_record *r)
{
    if (!WP_ARRAY_RESERVE(r->starts, r->starts_cap, r->count + 1))
        return false;
    r->starts[r->count++] = r->len;
    return true;
}

/* Ends the current field: trailing spaces go (leading ones were never put). */
static bool spool_record_end_field(struct spool_record *r, bool quoted)
{
    size_t start = r->starts[r->count - 1];
    while (!quoted && r->len > start && (r->buf[r->len - 1] == ' ' || r->buf[r->len - 1] == '\t'))
        r->len--;
    return spool_record_put(r, '\0');
}

static const char *spool_record_field(const struct spool_record *r, size_t i)
{
    return i < r->count ? r->buf + r->starts[i] : "";
}

static bool spool_is_blank(char c, char sep)
{
    return c == ' ' || (c == '\t' && sep != '\t');
}

static bool spool_at_line_end(const struct spool_cursor *c)
{
    return c->p >= c->end || *c->p == '\n' || *c->p == '\r';
}

/* Consumes one line end (LF, CRLF or a lone CR) if there is one. */
static void spool_skip_line_end(struct spool_cursor *c)
{
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p < c->end && *c->p == '\n')
        c->p++;
    c->line++;
}

static void spool_skip_line(struct spool_cursor *c)
{
    while (!spool_at_line_end(c))
        c->p++;
    if (c->p < c->end)
        spool_skip_line_end(c);
}

/* A quoted field, c->p just after the opening quote. Returns 1, 0 (out of memory) or -1
 * (a problem, added; the cursor is at the next line). */
static int spool_read_quoted(struct spool_cursor *c, struct spool_record *r,
                             struct spool_problems *problems)
{
    for (;;) {
        if (c->p >= c->end) {
            spool_problem(problems, r->line, "a quoted field is never closed (a '\"' is missing)");
            return -1;
        }
        char ch = *c->p++;
        if (ch == '"') {
            if (c->p < c->end && *c->p == '"') {
                c->p++; /* "" is one quote */
            } else {
                break;
            }
        } else if (ch == '\r' || ch == '\n') {
            /* A line break inside quotes is part of the field; count it, keep it as LF. */
            if (ch == '\r' && c->p < c->end && *c->p == '\n')
                c->p++;
            c->line++;
            ch = '\n';
        }
        if (!spool_record_put(r, ch))
            return 0;
    }
    while (c->p < c->end && spool_is_blank(*c->p, c->sep))
        c->p++;
    if (c->p < c->end && *c->p != c->sep && !spool_at_line_end(c)) {
        spool_problem(problems, c->line,
                      "text after the closing quote of a field (a '\"' inside a quoted field "
                      "must be doubled: \"\")");
        spool_skip_line(c);
        return -1;
    }
    return 1;
}

/* Reads the next record. Returns 1 (a record), 0 (end of text), -1 (a problem, added;
 * the caller goes on with the next record), -2 (out of memory). Comment lines are
 * skipped here, before any quote in them could be taken for a field. */
static int spool_next_record(struct spool_cursor *c, struct spool_record *r,
                             struct spool_problems *problems)
{
    r->len = 0;
    r->count = 0;
    for (;;) {
        if (c->p >= c->end)
            return 0;
        const char *q = c->p;
        while (q < c->end && spool_is_blank(*q, c->sep))
            q++;
        if (q < c->end && *q == '#') {
            spool_skip_line(c);
            continue;
        }
        break;
    }
    r->line = c->line;
    for (;;) {
        if (!spool_record_begin_field(r))
            return -2;
        while (c->p < c->end && spool_is_blank(*c->p, c->sep))
            c->p++;
        bool quoted = c->p < c->end && *c->p == '"';
        if (quoted) {
            c->p++;
            int rc = spool_read_quoted(c, r, problems);
            if (rc <= 0)
                return rc == 0 ? -2 : -1;
        } else {
            while (c->p < c->end && *c->p != c->sep && !spool_at_line_end(c))
                if (!spool_record_put(r, *c->p++))
                    return -2;
        }
        if (!spool_record_end_field(r, quoted))
            return -2;
        if (c->p < c->end && *c->p == c->sep) {
            c->p++;
            continue;
        }
        if (c->p < c->end)
            spool_skip_line_end(c);
        return 1;
    }
}

static bool spool_record_blank(const struct spool_record *r)
{
    for (size_t i = 0; i < r->count; i++)
        if (spool_record_field(r, i)[0] != '\0')
            return false;
    return true;
}

/* The separator of the first line that is neither blank nor a comment: whichever of
 * ',' ';' TAB occurs most often outside quotes (',' on a tie or when none does). */
static char spool_detect_separator(const char *p, const char *end)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && *p == '#') {
            while (p < end && *p != '\n' && *p != '\r')
                p++;
            continue;
        }
        break;
    }
    size_t comma = 0, semicolon = 0, tab = 0;
    bool in_quotes = false;
    for (; p < end && (in_quotes || (*p != '\n' && *p != '\r')); p++) {
        if (*p == '"')
            in_quotes = !in_quotes;
        else if (!in_quotes && *p == ',')
            comma++;
        else if (!in_quotes && *p == ';')
            semicolon++;
        else if (!in_quotes && *p == '\t')
            tab++;
    }
    if (semicolon > comma && semicolon >= tab)
        return ';';
    if (tab > comma && tab > semicolon)
        return '\t';
    return ',';
}

static bool spool_name_is(const char *field, const char *name)
{
    size_t n = strlen(name);
    if (strlen(field) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = field[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != name[i])
            return false;
    }
    return true;
}

/* Maps header fields to columns; column[k] = field index of column k. False after adding
 * problems. */
static bool spool_read_header(const struct spool_record *r, size_t column[SPOOL_COLS],
                              struct spool_problems *problems)
{
    size_t before = problems->count;
    bool seen[SPOOL_COLS] = {false};
    for (size_t i = 0; i < r->count; i++) {
        const char *name = spool_record_field(r, i);
        if (name[0] == '\0')
            continue;
        int k = 0;
        while (k < SPOOL_COLS && !spool_name_is(name, spool_csv_column_names[k]))
            k++;
        if (k == SPOOL_COLS) {
            spool_problem(problems, r->line,
                          "unknown column '%.100s': the header line must be "
                          "period,indicator,value",
                          name);
        } else if (seen[k]) {
            spool_problem(problems, r->line, "column '%s' is named twice",
                          spool_csv_column_names[k]);
        } else {
            seen[k] = true;
            column[k] = i;
        }
    }
    for (int k = 0; k < SPOOL_COLS; k++)
        if (!seen[k] && problems->count == before)
            spool_problem(problems, r->line,
                          "no '%s' column: the first line must be the header "
                          "period,indicator,value",
                          spool_csv_column_names[k]);
    return problems->count == before;
}

static bool spool_table_add(struct spool_table *t, const struct spool_record *r,
                            const size_t column[SPOOL_COLS])
{
    if (!WP_ARRAY_RESERVE(t->rows, t->cap, t->count + 1))
        return false;
    struct spool_row *row = &t->rows[t->count];
    memset(row, 0, sizeof *row);
    row->line = r->line;
    row->period = strdup(spool_record_field(r, column[SPOOL_COL_PERIOD]));
    row->indicator = strdup(spool_record_field(r, column[SPOOL_COL_INDICATOR]));
    row->value = strdup(spool_record_field(r, column[SPOOL_COL_VALUE]));
    t->count++; /* counted even when a strdup failed, so that spool_table_free frees it */
    return row->period && row->indicator && row->value;
}

/* Checks a data record against the header's width: missing fields and text in columns
 * the header does not name are problems. */
static bool spool_check_width(const struct spool_record *r, size_t header_fields,
                              const size_t column[SPOOL_COLS], char sep,
                              struct spool_problems *problems)
{
    size_t needed = 0;
    for (int k = 0; k < SPOOL_COLS; k++)
        needed = column[k] + 1 > needed ? column[k] + 1 : needed;
    if (r->count < needed) {
        spool_problem(problems, r->line, "%zu field(s), but the header has %zu columns", r->count,
                      needed);
        return false;
    }
    for (size_t i = 0; i < r->count; i++) {
        bool named = i == column[0] || i == column[1] || i == column[2];
        if (named || spool_record_field(r, i)[0] == '\0')
            continue;
        if (i < header_fields)
            spool_problem(problems, r->line, "text in field %zu, whose column has no name", i + 1);
        else
            spool_problem(problems, r->line,
                          "%zu fields, more than the header's %zu (a '%s' inside a value must "
                          "be quoted)",
                          r->count, header_fields, sep == '\t' ? "tab" : (sep == ';' ? ";" : ","));
        return false;
    }
    return true;
}

enum wp_err spool_csv_read(const char *text, size_t len, struct spool_table *out,
                           struct spool_problems *problems)
{
    memset(out, 0, sizeof *out);
    struct spool_record rec;
    memset(&rec, 0, sizeof rec);
    struct spool_cursor c = {.p = text, .end = text + len, .line = 1};
    c.sep = out->separator = spool_detect_separator(text, text + len);
    enum wp_err e = WP_OK;
    size_t column[SPOOL_COLS] = {0};
    size_t header_fields = 0;
    bool have_header = false;

    for (;;) {
        int rc = spool_next_record(&c, &rec, problems);
        if (rc == 0)
            break;
        if (rc == -2) {
            e = WP_ERR_NOMEM;
            goto cleanup;
        }
        if (rc < 0 || spool_record_blank(&rec))
            continue;
        if (!have_header) {
            have_header = true;
            header_fields = rec.count;
            if (!spool_read_header(&rec, column, problems))
                goto cleanup; /* rows cannot be read without knowing the columns */
            continue;
        }
        if (!spool_check_width(&rec, header_fields, column, c.sep, problems))
            continue;
        if (!spool_table_add(out, &rec, column)) {
            e = WP_ERR_NOMEM;
            goto cleanup;
        }
    }
    if (!have_header)
        spool_problem(problems, 0, "the file is empty: expected the header line "
                                   "period,indicator,value and rows under it");

cleanup:
    free(rec.buf);
    free(rec.starts);
    return e;
}

void spool_table_free(struct spool_table *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->rows[i].period);
        free(t->rows[i].indicator);
        free(t->rows[i].value);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}
