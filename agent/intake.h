/* intake.h — what a ward clerk hands in, turned into a report ready for the outbox.
 *
 * A clerk's report is a JSON object with period, values, tasks and note (and optionally
 * ward, which must be this agent's). The agent assigns v, stream, seq, observed_at and
 * committed_at (the moment of intake: the outbox commits the report before submit
 * returns), so a document carrying any of them is refused: a clerk's copy of an old payload must
 * not be mistaken for a fresh submission. `submit --file` uses this now; the spool
 * intake (JSON and CSV files) will use it too.
 */
#ifndef WP_AGENT_INTAKE_H
#define WP_AGENT_INTAKE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "report.h"

/* Validates doc as a report of `ward` observed now (+07:00) with the aggregator's own
 * decoder and fills *out (caller calls wp_report_clear, also after an error). stream and
 * seq of *out are placeholders: outbox_intake_add assigns the real ones.
 * WP_ERR_INVALID: err says what and where, e.g. "values.deaths: must be ≥ 0". */
enum wp_err intake_report_from_json(const cJSON *doc, const char *ward, struct wp_report *out,
                                    char *err, size_t errlen);

#endif
