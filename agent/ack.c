/* ack.c — the aggregator's ack as this agent takes it (contract in ack.h). */
#include "ack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack_payload.h"

enum wp_err ack_decode(const void *payload, size_t len, const char *ward, const char *stream,
                       struct ack *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct wp_ack msg;
    enum wp_err rc = wp_ack_decode(payload, len, &msg, err, errlen);
    if (rc != WP_OK)
        return rc;
    if (strcmp(msg.ward, ward) != 0) {
        snprintf(err, errlen, "ack is for ward %s, not for this ward %s", msg.ward, ward);
        rc = WP_ERR_INVALID;
        goto cleanup;
    }
    if (strcmp(msg.stream, stream) != 0) {
        snprintf(err, errlen,
                 "ack is for stream %s, but this outbox's stream is %s (an ack for a store "
                 "that was wiped?)",
                 msg.stream, stream);
        rc = WP_ERR_INVALID;
        goto cleanup;
    }
    if (msg.rejected_count
        && !(out->rejected = calloc(msg.rejected_count, sizeof *out->rejected))) {
        snprintf(err, errlen, "out of memory");
        rc = WP_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < msg.rejected_count; i++)
        out->rejected[i] = (struct outbox_rejection){msg.rejected[i].seq, msg.rejected[i].reason};
    out->rejected_count = msg.rejected_count;
    out->acked_through = msg.acked_through;
    out->resend_from = msg.resend_from;
    out->doc = msg.doc;   /* the reasons point into it: it moves to *out */
    msg.doc = NULL;

cleanup:
    wp_ack_clear(&msg);
    return rc;
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
