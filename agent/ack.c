/* ack.c — decoding the aggregator's ack (contract in ack.h). */
#include "ack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_registry.h"

enum wp_err ack_decode(const void *payload, size_t len, const char *ward, const char *stream,
                       struct ack *out, char *err, size_t errlen)
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
    if (strcmp(w->valuestring, ward) != 0) {
        snprintf(err, errlen, "ack is for ward %s, not for this ward %s", w->valuestring, ward);
        goto invalid;
    }
    if (strcmp(s->valuestring, stream) != 0) {
        snprintf(err, errlen,
                 "ack is for stream %s, but this outbox's stream is %s (an ack for a store "
                 "that was wiped?)",
                 s->valuestring, stream);
        goto invalid;
    }
    out->acked_through = (int64_t)through->valuedouble;
    const cJSON *resend = cJSON_GetObjectItemCaseSensitive(out->doc, "resend_from");
    if (cJSON_IsNumber(resend))
        out->resend_from = (int64_t)resend->valuedouble;

    int n = cJSON_IsArray(rejected) ? cJSON_GetArraySize(rejected) : 0;
    if (n > 0) {
        out->rejected = calloc((size_t)n, sizeof *out->rejected);
        if (!out->rejected) {
            snprintf(err, errlen, "out of memory");
            ack_clear(out);
            return WP_ERR_NOMEM;
        }
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, rejected) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(item, "seq");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(item, "reason");
        if (!cJSON_IsNumber(seq))
            continue;
        struct outbox_rejection *r = &out->rejected[out->rejected_count++];
        r->seq = (int64_t)seq->valuedouble;
        r->reason = cJSON_IsString(reason) ? reason->valuestring : "(no reason given)";
    }
    return WP_OK;

invalid:
    ack_clear(out);
    return WP_ERR_INVALID;
}

void ack_clear(struct ack *a)
{
    free(a->rejected);
    cJSON_Delete(a->doc);
    memset(a, 0, sizeof *a);
}

enum wp_err ack_pending_add(struct ack_pending *p, const struct ack *a)
{
    size_t cap = p->rejected_count + a->rejected_count;
    struct outbox_rejection *list = cap ? calloc(cap, sizeof *list) : NULL;
    if (cap && !list)
        return WP_ERR_NOMEM;
    size_t n = 0;
    /* The new reasons first, then the old ones for seqs the new ack does not name. */
    for (size_t i = 0; i < a->rejected_count; i++) {
        list[n].seq = a->rejected[i].seq;
        if (!(list[n].reason = strdup(a->rejected[i].reason)))
            goto nomem;
        n++;
    }
    for (size_t i = 0; i < p->rejected_count; i++) {
        bool named = false;
        for (size_t j = 0; j < a->rejected_count && !named; j++)
            named = a->rejected[j].seq == p->rejected[i].seq;
        if (named)
            continue;
        list[n].seq = p->rejected[i].seq;
        if (!(list[n].reason = strdup(p->rejected[i].reason)))
            goto nomem;
        n++;
    }
    struct ack_pending merged = {
        .active = true,
        .acked_through = a->acked_through > p->acked_through ? a->acked_through
                                                             : p->acked_through,
        .resend_from = p->resend_from && (!a->resend_from || p->resend_from < a->resend_from)
                           ? p->resend_from : a->resend_from,
        .rejected_count = n,
        .rejected = list,
    };
    ack_pending_clear(p);
    *p = merged;
    return WP_OK;

nomem:
    for (size_t i = 0; i < n; i++)
        free((char *)list[i].reason);
    free(list);
    return WP_ERR_NOMEM;
}

void ack_pending_clear(struct ack_pending *p)
{
    for (size_t i = 0; i < p->rejected_count; i++)
        free((char *)p->rejected[i].reason);
    free(p->rejected);
    memset(p, 0, sizeof *p);
}
