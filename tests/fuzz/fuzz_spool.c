/* fuzz_spool.c — a spool file's bytes (agent/spool_parse.c, agent/spool_csv.c), judged as
 * the agent judges a file a clerk dropped: the same bytes as "x.csv" and as "x.json", with
 * the agent's own sources (spool_parse, spool_csv, spool_problems, intake) and no daemon.
 * Contract (spool_parse.h, spool_csv.h, spool_problems.h):
 *   - the result is WP_OK (judged) or WP_ERR_NOMEM; nothing else;
 *   - a refused file leaves no report behind and says why: one line per problem, "line
 *     N: …" with N a line of the file (or the file as a whole), at most
 *     SPOOL_PROBLEMS_SHOWN of them plus "… and N more"; the text is UTF-8 without
 *     control characters but tab (it goes into rejected/<name>.error, the first problem
 *     also into the log and `wardpulse-agent status`), whatever the file quoted in it held;
 *   - a taken file holds at least one report, every one of this ward, and every one
 *     encodes (wp_report_to_json) to a payload the aggregator's decoder accepts — what
 *     the outbox will check again before it commits;
 *   - a taken CSV loses and invents nothing: every row with a value (spool_csv_read of
 *     the same text) is in the report of its period — a value, a task state or the note —
 *     and the reports hold nothing else; each report starts on the first line of its
 *     period, and the reports come in the order their periods first appear;
 *   - spool_parse_incomplete (is the last line of a CSV still being written?) keeps within
 *     len, says no for a .json, an empty file or one ending in a line end, and says yes
 *     only for text without a NUL byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "report.h"
#include "spool_csv.h"
#include "spool_parse.h"
#include "spool_problems.h"
#include "utf8.h"

#define FUZZ_WARD "00001"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

/* Lines of the text as spool_csv.c counts them: LF, CRLF or a lone CR end a line. */
static int fuzz_line_count(const char *text, size_t len)
{
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n')))
            lines++;
    return lines;
}

/* text[0 .. len) with control bytes written \xNN, for a failure message that must not
 * act on the terminal it is shown on. */
static const char *fuzz_escaped(const char *text, size_t len)
{
    static char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

/* Every line of a refusal is one problem of this file, or the summing-up line; a problem
 * is one line of printable text (it goes to rejected/<name>.error, the first one to the
 * log and to `wardpulse-agent status`), whatever the file quoted in it held. */
static void fuzz_check_problems(const char *name, struct spool_problems *problems, int lines)
{
    const char *text = spool_problems_text(problems);
    FUZZ_CHECK(text[0] != '\0', "%s: refused without a reason", name);
    size_t bad = wp_utf8_invalid_at(text, strlen(text));
    FUZZ_CHECK(bad == strlen(text), "%s: the problems are not UTF-8 text (byte %zu cut?): %s",
               name, bad, fuzz_escaped(text, strlen(text)));
    size_t shown = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        FUZZ_CHECK(nl != NULL, "%s: the problem list does not end in a newline: %s", name,
                   fuzz_escaped(p, strlen(p)));
        FUZZ_CHECK(nl > p, "%s: an empty problem line", name);
        for (const char *c = p; c < nl; c++)
            FUZZ_CHECK(((unsigned char)*c >= 0x20 && *c != 0x7f) || *c == '\t',
                       "%s: a control byte 0x%02x in the problem \"%s\"", name,
                       (unsigned char)*c, fuzz_escaped(p, (size_t)(nl - p)));
        if (strncmp(p, "... and ", 8) == 0) {
            FUZZ_CHECK(nl[1] == '\0', "%s: text after the summing-up line", name);
        } else {
            shown++;
            if (strncmp(p, "line ", 5) == 0 && p[5] >= '0' && p[5] <= '9') {
                long n = strtol(p + 5, NULL, 10);
                FUZZ_CHECK(n >= 1 && n <= lines, "%s: line %ld named, the file has %d line(s)",
                           name, n, lines);
            }
        }
        p = nl + 1;
    }
    size_t kept = problems->count < SPOOL_PROBLEMS_SHOWN ? problems->count : SPOOL_PROBLEMS_SHOWN;
    FUZZ_CHECK(shown == kept,
               "%s: %zu problem(s) counted, but their text has %zu lines (a line break of the "
               "file quoted in a problem?): %s", name, problems->count, shown,
               fuzz_escaped(text, strlen(text)));
}

/* What the outbox does with every report before it commits it. */
static void fuzz_check_report_encodes(const char *name, const struct wp_report *r)
{
    FUZZ_CHECK(strcmp(r->ward, FUZZ_WARD) == 0, "%s: a report of ward %s", name, r->ward);
    FUZZ_CHECK(r->value_count + r->task_count > 0 || r->note != NULL,
               "%s: a report of %s with nothing in it", name, r->period);
    cJSON *json = wp_report_to_json(r);
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    FUZZ_CHECK(text != NULL, "%s: a taken report did not encode", name);
    struct wp_report again;
    char err[512];
    enum wp_err rc = wp_report_decode(text, strlen(text), &again, err, sizeof err);
    FUZZ_CHECK(rc == WP_OK, "%s: the aggregator refuses a report the spool took: %s", name,
               err);
    wp_report_clear(&again);
    cJSON_free(text);
}

static const struct wp_report *fuzz_report_of(const struct spool_batch *b, const char *period)
{
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->reports[i].period, period) == 0)
            return &b->reports[i];
    return NULL;
}

/* The rows of the same text against the reports taken from it. */
static void fuzz_check_csv_rows(const char *text, size_t len, const struct spool_batch *b)
{
    struct spool_table table;
    struct spool_problems problems;
    memset(&problems, 0, sizeof problems);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    enum wp_err rc = spool_csv_read(text, len, &table, &problems);
    if (rc == WP_ERR_NOMEM) {
        spool_table_free(&table);
        spool_problems_free(&problems);
        return;
    }
    FUZZ_CHECK(rc == WP_OK && problems.count == 0,
               "the CSV reader finds problems in a file the spool took: %s",
               spool_problems_text(&problems));
    size_t items = 0, figures = 0, starts = 0;
    for (size_t i = 0; i < b->count; i++)
        items += b->reports[i].value_count + b->reports[i].task_count
                 + (b->reports[i].note != NULL);
    int last_first_line = 0;
    for (size_t i = 0; i < table.count; i++) {
        const struct spool_row *row = &table.rows[i];
        FUZZ_CHECK(i == 0 || row->line > table.rows[i - 1].line, "rows out of line order");
        if (row->value[0] == '\0')
            continue;
        figures++;
        const struct wp_report *r = fuzz_report_of(b, row->period);
        FUZZ_CHECK(r != NULL, "line %d: no report for period '%s'", row->line, row->period);
        size_t k = (size_t)(r - b->reports);
        FUZZ_CHECK(b->lines[k] <= row->line, "line %d: its report for %s starts on line %d",
                   row->line, row->period, b->lines[k]);
        if (b->lines[k] == row->line) {
            FUZZ_CHECK(row->line > last_first_line, "report for %s out of file order",
                       row->period);
            last_first_line = row->line;
            starts++;
        }
        bool found = false;
        if (strcmp(row->indicator, "note") == 0) {
            found = r->note && strcmp(r->note, row->value) == 0;
        } else if (strncmp(row->indicator, "task:", 5) == 0) {
            for (size_t t = 0; t < r->task_count && !found; t++)
                found = strcmp(r->tasks[t].task, row->indicator + 5) == 0
                        && strcmp(r->tasks[t].state, row->value) == 0;
        } else {
            long long want = strtoll(row->value, NULL, 10);
            for (size_t v = 0; v < r->value_count && !found; v++)
                found = strcmp(r->values[v].indicator, row->indicator) == 0
                        && r->values[v].value == want;
        }
        FUZZ_CHECK(found, "line %d: %s=%s is not in the report for %s", row->line,
                   row->indicator, row->value, row->period);
    }
    FUZZ_CHECK(starts == b->count, "%zu reports, %zu of them start on a row of their period",
               b->count, starts);
    FUZZ_CHECK(items == figures, "%zu rows with a value, but the reports hold %zu items",
               figures, items);
    spool_table_free(&table);
    spool_problems_free(&problems);
}

static void fuzz_one(const char *name, const char *text, size_t len)
{
    struct spool_batch batch;
    struct spool_problems problems;
    memset(&problems, 0, sizeof problems);
    enum wp_err rc = spool_parse(name, text, len, FUZZ_WARD, &batch, &problems);
    FUZZ_CHECK(rc == WP_OK || rc == WP_ERR_NOMEM, "%s: result %d", name, (int)rc);
    if (rc == WP_OK && problems.count > 0) {
        FUZZ_CHECK(batch.count == 0 && batch.reports == NULL && batch.lines == NULL,
                   "%s: a refused file left %zu report(s)", name, batch.count);
        fuzz_check_problems(name, &problems, fuzz_line_count(text, len));
    } else if (rc == WP_OK) {
        FUZZ_CHECK(batch.count >= 1, "%s: taken with no report", name);
        for (size_t i = 0; i < batch.count; i++)
            fuzz_check_report_encodes(name, &batch.reports[i]);
        if (strcmp(name, "x.csv") == 0) {
            int lines = fuzz_line_count(text, len);
            for (size_t i = 0; i < batch.count; i++)
                FUZZ_CHECK(batch.lines[i] >= 1 && batch.lines[i] <= lines,
                           "report %zu starts on line %d of %d", i, batch.lines[i], lines);
            fuzz_check_csv_rows(text, len, &batch);
        }
    }
    spool_batch_free(&batch);
    spool_problems_free(&problems);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy with nothing after it: the parsers must keep within len. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    bool incomplete = spool_parse_incomplete("x.csv", text, size);
    FUZZ_CHECK(!spool_parse_incomplete("x.json", text, size), "a .json judged incomplete");
    FUZZ_CHECK(!incomplete || (size > 0 && text[size - 1] != '\n' && text[size - 1] != '\r' &&
                               memchr(text, '\0', size) == NULL),
               "judged incomplete: empty, ending in a line end, or holding a NUL byte: %s",
               fuzz_escaped(text, size));
    fuzz_one("x.csv", text, size);
    fuzz_one("x.json", text, size);
    free(text);
    return 0;
}
