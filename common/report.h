/* report.h — the report payload of DESIGN.md, decoded and encoded in one place.
 *
 *   {"v":1, "ward":"00001", "stream":"9f1c2a7e4b5d6c3a", "seq":42,
 *    "period":"2022-05-03", "observed_at":"2022-05-03T17:05:00+07:00",
 *    "values":{"cases_new_community":12}, "tasks":{"ward-scenario":"done"}, "note":"…"}
 *
 * Decoding validates against schemas/report.schema.json (the embedded copy) and then
 * checks what a schema cannot: the period is a real day or ISO week. Agent (at intake)
 * and aggregator (at ingest) call the same function, so they refuse the same reports
 * with the same words.
 */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

#define WP_STREAM_LEN 16            /* hex digits */
#define WP_REPORT_MAX_BYTES 65536   /* default payload limit of both daemons */
/* The largest seq (and acked_through): 15 digits, because cJSON prints a number with 15
 * significant digits whenever they read back within a relative DBL_EPSILON, so larger
 * integers could change on the way out (2^53 - 1 was printed as ...990). The schemas
 * carry the same bound. A stream of one report a second lasts 31 million years. */
#define WP_SEQ_MAX 999999999999999LL

struct wp_report_value {
    char *indicator;
    int64_t value;
};

struct wp_report_task {
    char *task;
    char *state;                    /* "not_started" | "in_progress" | "done" */
};

struct wp_report {
    char ward[16];
    char stream[WP_STREAM_LEN + 1];
    int64_t seq;
    char period[16];                /* "2022-05-03" or "2022-W18" */
    char observed_at[40];           /* RFC 3339 with offset */
    size_t value_count;
    struct wp_report_value *values; /* owned; wp_report_clear frees */
    size_t task_count;
    struct wp_report_task *tasks;   /* owned */
    char *note;                     /* owned, may be NULL */
};

/* Parses and validates payload (len bytes, not necessarily NUL-terminated), in this
 * order: len ≤ WP_REPORT_MAX_BYTES (larger is refused unparsed), UTF-8, strict RFC 8259
 * syntax (error offsets point at the offending byte; "\u0000" and lone surrogates are
 * refused), a JSON object, real period (day or ISO week), real instant (observed_at with
 * its offset), the report schema, then what the schema cannot say (no duplicate keys,
 * integers JSON carries exactly).
 *
 * On success fills *out (caller owns it: wp_report_clear). On failure returns
 * WP_ERR_INVALID with err saying why, e.g. "values.deaths: must be ≥ 0",
 * "period: 2022-02-30 is not a real date", "payload is not valid JSON at byte 17: ':'
 * expected"; *out then holds no allocation, only the identity: ward (a 2–5 digit code),
 * stream (16 lowercase hex digits) and seq (1 .. WP_SEQ_MAX), each filled when usable on
 * its own ("" / 0 when not), so the rejection can be acked. WP_ERR_NOMEM when memory ran
 * out: the payload was not judged and must not be rejected for it.
 * err may be NULL. */
enum wp_err wp_report_decode(const void *payload, size_t len, struct wp_report *out,
                             char *err, size_t errlen);

/* Builds the JSON object of a report (caller frees with cJSON_Delete); NULL on no memory. */
cJSON *wp_report_to_json(const struct wp_report *report);

/* Frees what *report owns and zeroes it. */
void wp_report_clear(struct wp_report *report);

#endif
