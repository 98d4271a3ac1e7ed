/* intake.c — a clerk's report document checked and completed (contract in intake.h). */
#include "intake.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "timefmt.h"

/* Fields only the agent may set. */
static const char *const intake_assigned_fields[] = {"v", "stream", "seq", "observed_at",
                                                     "committed_at"};

enum wp_err intake_report_from_json(const cJSON *doc, const char *ward, struct wp_report *out,
                                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "(root): a report must be a JSON object");
        return WP_ERR_INVALID;
    }
    for (size_t i = 0; i < sizeof intake_assigned_fields / sizeof intake_assigned_fields[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(doc, intake_assigned_fields[i])) {
            snprintf(err, errlen,
                     "%s: must not be given; the agent assigns v, stream, seq, observed_at "
                     "and committed_at itself",
                     intake_assigned_fields[i]);
            return WP_ERR_INVALID;
        }
    }
    const cJSON *doc_ward = cJSON_GetObjectItemCaseSensitive(doc, "ward");
    if (doc_ward && (!cJSON_IsString(doc_ward) || strcmp(doc_ward->valuestring, ward) != 0)) {
        snprintf(err, errlen, "ward: is %s%s%s, but this agent reports for ward %s",
                 cJSON_IsString(doc_ward) ? "\"" : "",
                 cJSON_IsString(doc_ward) ? doc_ward->valuestring : "not a string",
                 cJSON_IsString(doc_ward) ? "\"" : "", ward);
        return WP_ERR_INVALID;
    }

    enum wp_err e = WP_OK;
    char *text = NULL;
    cJSON *full = cJSON_Duplicate(doc, 1);
    if (!full)
        goto nomem;
    char observed_at[40];
    wp_datetime_format_local(wp_now_ms(), observed_at, sizeof observed_at);
    /* Placeholders that satisfy the schema, so that the decoder judges only what the
     * clerk wrote; outbox_intake_add sets the real stream and seq. */
    if (!doc_ward && !cJSON_AddStringToObject(full, "ward", ward))
        goto nomem;
    if (!cJSON_AddNumberToObject(full, "v", 1) ||
        !cJSON_AddStringToObject(full, "stream", "0000000000000000") ||
        !cJSON_AddNumberToObject(full, "seq", 1) ||
        !cJSON_AddStringToObject(full, "observed_at", observed_at) ||
        /* The same instant: the outbox commits it before submit returns (a failed
         * commit discards it with this time). */
        !cJSON_AddStringToObject(full, "committed_at", observed_at))
        goto nomem;
    text = cJSON_PrintUnformatted(full);
    if (!text)
        goto nomem;
    e = wp_report_decode(text, strlen(text), out, err, errlen);
    goto cleanup;

nomem:
    snprintf(err, errlen, "out of memory");
    e = WP_ERR_NOMEM;
cleanup:
    cJSON_free(text);
    cJSON_Delete(full);
    return e;
}
