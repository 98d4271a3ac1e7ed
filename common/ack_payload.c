/* ack_payload.c — the ack payload's codec (contract in ack_payload.h). */
#include "ack_payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_registry.h"

char *wp_ack_encode(const struct wp_ack *ack)
{
    char *text = NULL;
    cJSON *list = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddNumberToObject(doc, "v", 1)
        || !cJSON_AddStringToObject(doc, "ward", ack->ward)
        || !cJSON_AddStringToObject(doc, "stream", ack->stream)
        || !cJSON_AddNumberToObject(doc, "acked_through", (double)ack->acked_through)
        || (ack->resend_from
            && !cJSON_AddNumberToObject(doc, "resend_from", (double)ack->resend_from))
        || !(list = cJSON_AddArrayToObject(doc, "rejected")))
        goto cleanup;
    for (size_t i = 0; i < ack->rejected_count; i++) {
        const struct wp_ack_rejection *r = &ack->rejected[i];
        cJSON *entry = cJSON_CreateObject();
        if (!entry || !cJSON_AddNumberToObject(entry, "seq", (double)r->seq)
            || !cJSON_AddStringToObject(entry, "reason",
                                        r->reason && r->reason[0] ? r->reason : "rejected")
            || !cJSON_AddItemToArray(list, entry)) {
            cJSON_Delete(entry);
            goto cleanup;
        }
    }
    text = cJSON_PrintUnformatted(doc);

cleanup:
    cJSON_Delete(doc);
    return text;
}

enum wp_err wp_ack_decode(const void *payload, size_t len, struct wp_ack *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    char why[512];
    out->doc = cJSON_ParseWithLength(payload, len);
    if (!out->doc) {
        snprintf(err, errlen, "ack is not valid JSON");
        goto invalid;
    }
    if (!wp_schemas_validate("ack", out->doc, why, sizeof why)) {
        snprintf(err, errlen, "ack violates the schema: %s", why);
        goto invalid;
    }
    /* The schema guarantees the types below; the checks only keep a bad schema from
     * crashing the daemon. */
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(out->doc, "ward");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(out->doc, "stream");
    const cJSON *through = cJSON_GetObjectItemCaseSensitive(out->doc, "acked_through");
    const cJSON *rejected = cJSON_GetObjectItemCaseSensitive(out->doc, "rejected");
    if (!cJSON_IsString(w) || !cJSON_IsString(s) || !cJSON_IsNumber(through)) {
        snprintf(err, errlen, "ack lacks ward, stream or acked_through");
        goto invalid;
    }
    out->ward = w->valuestring;
    out->stream = s->valuestring;
    out->acked_through = (int64_t)through->valuedouble;
    const cJSON *resend = cJSON_GetObjectItemCaseSensitive(out->doc, "resend_from");
    if (cJSON_IsNumber(resend))
        out->resend_from = (int64_t)resend->valuedouble;

    int n = cJSON_IsArray(rejected) ? cJSON_GetArraySize(rejected) : 0;
    if (n > 0 && !(out->rejected = calloc((size_t)n, sizeof *out->rejected))) {
        snprintf(err, errlen, "out of memory");
        wp_ack_clear(out);
        return WP_ERR_NOMEM;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, rejected) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(item, "seq");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(item, "reason");
        if (!cJSON_IsNumber(seq))
            continue;
        struct wp_ack_rejection *r = &out->rejected[out->rejected_count++];
        r->seq = (int64_t)seq->valuedouble;
        r->reason = cJSON_IsString(reason) ? reason->valuestring : "(no reason given)";
    }
    return WP_OK;

invalid:
    wp_ack_clear(out);
    return WP_ERR_INVALID;
}

void wp_ack_clear(struct wp_ack *ack)
{
    free(ack->rejected);
    cJSON_Delete(ack->doc);
    memset(ack, 0, sizeof *ack);
}
