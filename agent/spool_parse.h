/* spool_parse.h — one spool file's bytes judged: every report in it, or why it is refused.
 *
 * A file is taken whole or not at all, so this reads and validates everything before the
 * outbox is touched. Checks, in order:
 *   1. the name: *.csv or *.json (any case); anything else is refused with a hint;
 *   2. text: no NUL byte, valid UTF-8 (a leading BOM is skipped) — binary garbage and
 *      legacy encodings are refused, naming the line;
 *   3. the format: a JSON document (one clerk report object, or an array of them, as
 *      for `submit --file`) or the CSV of docs/spool.md (spool_csv.h);
 *   4. every report through intake_report_from_json — the aggregator's own decoder, so a
 *      bad value gets the aggregator's words, e.g. "values.deaths: must be ≥ 0".
 * CSV rows are grouped into one report per period, in the order the periods first
 * appear; a row with an empty value is no figure and is skipped.
 */
#ifndef WP_AGENT_SPOOL_PARSE_H
#define WP_AGENT_SPOOL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "report.h"
#include "spool_problems.h"

struct spool_batch {
    struct wp_report *reports; /* owned, in file order; stream and seq are placeholders */
    int *lines;                /* owned: the line each report starts on (CSV), else 0 */
    size_t count, cap;
};

/* Judges the len bytes of the file called name (only its extension matters) for ward.
 * *out is zeroed first. Returns WP_OK when judged: then problems->count == 0 means *out
 * holds every report of the file, and otherwise the file is refused, problems says why
 * and *out is empty. WP_ERR_NOMEM: not judged (try again later). The caller frees *out
 * with spool_batch_free in every case. */
enum wp_err spool_parse(const char *name, const char *bytes, size_t len, const char *ward,
                        struct spool_batch *out, struct spool_problems *problems);

void spool_batch_free(struct spool_batch *b);

/* Whether the len bytes of the file called name are a CSV whose last line has no line
 * end yet: a writer still busy, or one that died mid-line. Such a file must not be
 * judged now — its last row may be cut in the middle of a figure ("12" of "1200"), which
 * would be taken as a valid but wrong value. True only for a *.csv that is not empty,
 * does not end in LF or CR, and is text so far (no NUL byte; UTF-8, a character cut at
 * the very end allowed). Binary garbage is never "incomplete": no more bytes would make
 * it a CSV, so it is judged (and refused) at once. JSON has its own end (the closing
 * bracket): a cut JSON file does not parse and is refused, so it is never asked here. */
bool spool_parse_incomplete(const char *name, const char *bytes, size_t len);

#endif
