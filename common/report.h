/* report.h — the report payload of DESIGN.md, decoded and encoded in one place.
 *
 *   {"v":1, "ward":"00001", "stream":"9f1c2a7e4b5d6c3a", "seq":42,
 *    "period":"2022-05-03", "observed_at":"2022-05-03T17:05:00+07:00",
 *    "committed_at":"2022-05-03T17:05:00+07:00" (optional),
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
    char committed_at[40];          /* when the agent committed it to its outbox, RFC 3339
                                     * with offset; "" when absent (older agents). Part of
                                     * the content, fixed at intake */
    size_t value_count;
    struct wp_report_value *values; /* owned; wp_report_clear frees */
    size_t task_count;
    struct wp_report_task *tasks;   /* owned */
    char *note;                     /* owned, may be NULL */
    /* Delivery state of the sending agent at the moment of this publication (not part of
     * the report's content; 0 when absent, as from older agents):
     *   unacked_from  the lowest seq of the stream the agent has not had acknowledged
     *   kept_from     the lowest seq it can still send again (outbox or archive); every
     *                 lower seq it issued was acknowledged and is gone from it
     * kept_from ≤ unacked_from ≤ seq. See docs/architecture.md, "Healing a gap". */
    int64_t unacked_from;
    int64_t kept_from;
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

/* The report's content as a 64-bit hash: ward, stream, seq, period, observed_at,
 * committed_at (when present: a report without it hashes as before), values, tasks and
 * note, independent of the order of values and tasks and of the delivery
 * fields. Two publications of one report hash alike; a seq reused for other figures
 * does not (FNV-1a; a chance collision is 1 in 2^64). */
uint64_t wp_report_content_hash(const struct wp_report *report);

/* FNV-1a of len bytes: the hash of a message that could not be decoded. */
uint64_t wp_bytes_hash(const void *bytes, size_t len);

/* The FNV-1a steps the hashes above are made of, for a key of several parts: start
 * from WP_FNV1A_OFFSET, feed each part (a string with its NUL, so that "ab"+"c" and
 * "a"+"bc" differ). */
#define WP_FNV1A_OFFSET UINT64_C(0xcbf29ce484222325)
uint64_t wp_fnv1a(uint64_t h, const void *bytes, size_t len);
uint64_t wp_fnv1a_str(uint64_t h, const char *s);

/* The payload as published at this moment: payload (a report as wp_report_to_json
 * printed it, without delivery fields) with "unacked_from" and "kept_from" added.
 * Returns a malloc'd NUL-terminated copy and its length in *out_len; NULL when out of
 * memory or when payload does not end with '}'. */
char *wp_report_with_delivery(const char *payload, size_t len, int64_t unacked_from,
                              int64_t kept_from, size_t *out_len);

/* How far ahead of the receiver's clock a period may begin: a clerk sending tonight
 * the figures of tomorrow morning is normal, a year typed wrong (2202) is not. */
#define WP_REPORT_DAYS_AHEAD 1

/* True if the report's period begins no later than WP_REPORT_DAYS_AHEAD days after the
 * local day of now_ms; otherwise false with reason, e.g. "period: 2202-06-10 begins more
 * than a day after today (2022-06-10 by this clock); a typing error in the year?". The
 * agent's intake and the aggregator's ingest both call it. */
bool wp_report_period_not_ahead(const struct wp_report *report, int64_t now_ms, char *reason,
                                size_t reasonlen);

/* Frees what *report owns and zeroes it. */
void wp_report_clear(struct wp_report *report);

#endif
