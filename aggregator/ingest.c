/* ingest.c — message → decode → batch → commit → acks (contract in ingest.h). */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "log.h"
#include "report.h"
#include "topic.h"

#define INGEST_ACK_MAX_REJECTED 1000
#define INGEST_REASON_MAX 512

/* One message in hand: a valid report or a rejection, with what the commit needs. */
struct ingest_item {
    bool is_report;
    int64_t received_ms;
    char *topic;
    void *payload;                  /* copy, cut at max_payload for rejections */
    size_t len;
    size_t original_len;
    char topic_ward[WP_UNIT_CODE_MAX];  /* "" when the topic names no ward */
    struct wp_report report;        /* a rejection keeps only ward/stream/seq here */
    bool stored;                    /* written by this batch (not a duplicate) */
    char *reason;                   /* rejections only */
};

/* A (ward, stream) the batch touched and the smallest seq it brought. */
struct ingest_touch {
    const char *ward;
    const char *stream;
    int64_t min_seq;
};

struct ingest {
    struct store *store;
    struct ingest_options opts;
    struct ingest_item *items;      /* opts.batch_max slots */
    size_t count;
    int64_t oldest_mono_ms;         /* when the first item of the batch arrived */
    struct ingest_stats stats;
};

enum wp_err ingest_create(struct store *store, const struct ingest_options *opts,
                          struct ingest **out)
{
    *out = NULL;
    struct ingest *ingest = calloc(1, sizeof *ingest);
    if (!ingest)
        return WP_ERR_NOMEM;
    ingest->store = store;
    ingest->opts = *opts;
    if (ingest->opts.batch_max == 0)
        ingest->opts.batch_max = 1;
    if (ingest->opts.max_payload == 0 || ingest->opts.max_payload > WP_REPORT_MAX_BYTES)
        ingest->opts.max_payload = WP_REPORT_MAX_BYTES;
    ingest->items = calloc(ingest->opts.batch_max, sizeof *ingest->items);
    if (!ingest->items) {
        free(ingest);
        return WP_ERR_NOMEM;
    }
    *out = ingest;
    return WP_OK;
}

static void ingest_item_clear(struct ingest_item *item)
{
    free(item->topic);
    free(item->payload);
    free(item->reason);
    wp_report_clear(&item->report);
    memset(item, 0, sizeof *item);
}

static void ingest_batch_clear(struct ingest *ingest)
{
    for (size_t i = 0; i < ingest->count; i++)
        ingest_item_clear(&ingest->items[i]);
    ingest->count = 0;
}

void ingest_destroy(struct ingest **ingest)
{
    if (!ingest || !*ingest)
        return;
    if ((*ingest)->count)
        wp_log(WP_LOG_WARNING, "dropping %zu uncommitted report(s); their agents will re-send",
               (*ingest)->count);
    ingest_batch_clear(*ingest);
    free((*ingest)->items);
    free(*ingest);
    *ingest = NULL;
}

/* Makes a reason fit for a log line and a JSON ack: control characters (a key with an
 * escaped newline, quoted by the validator) become spaces, and a partial UTF-8
 * character that snprintf may have left at the end is cut. */
static void ingest_clean_reason(char *s)
{
    size_t n = strlen(s), lead = n;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = ' ';
    while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0u) == 0x80u)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (n - (lead - 1) < need)
        s[lead - 1] = '\0';
}

/* Decides what the message is: fills item->report (a valid report) or item->reason.
 * Returns false when the message cannot be judged for want of memory: it must then not
 * be rejected (that would be for ever), only dropped unacked, so that its agent re-sends. */
static bool ingest_classify(struct ingest *ingest, struct ingest_item *item)
{
    char reason[INGEST_REASON_MAX] = "";
    char topic_unit[WP_UNIT_CODE_MAX];

    if (wp_topic_unit(item->topic, "report", topic_unit) && wp_unit_code_valid(topic_unit))
        memcpy(item->topic_ward, topic_unit, sizeof topic_unit);

    if (item->original_len > ingest->opts.max_payload) {
        /* Not parsed at all: the bound exists so that no one pays for a huge payload. */
        snprintf(reason, sizeof reason, "payload of %zu bytes exceeds max_payload (%zu)",
                 item->original_len, ingest->opts.max_payload);
    } else {
        enum wp_err rc = wp_report_decode(item->payload, item->len, &item->report, reason,
                                          sizeof reason);
        if (rc == WP_ERR_NOMEM)
            return false;
        if (rc == WP_OK) {
            /* The ACL lets a ward write only its own topic, so the topic is who sent it. */
            if (!item->topic_ward[0])
                snprintf(reason, sizeof reason, "topic %s does not name a ward", item->topic);
            else if (strcmp(item->report.ward, item->topic_ward) != 0)
                snprintf(reason, sizeof reason, "payload ward %s does not match topic ward %s",
                         item->report.ward, item->topic_ward);
            else if (!ingest->opts.check
                     || ingest->opts.check(ingest->opts.hook_ctx, &item->report, reason,
                                           sizeof reason))
                item->is_report = true;
        }
    }
    if (item->is_report)
        return true;

    if (!reason[0])
        snprintf(reason, sizeof reason, "invalid report");
    ingest_clean_reason(reason);
    if (!(item->reason = strdup(reason)))
        return false;
    wp_log(WP_LOG_WARNING, "rejected message on %s: %s", item->topic, reason);
    return true;
}

void ingest_message(struct ingest *ingest, const char *topic, const void *payload, size_t len)
{
    struct ingest_item *item = &ingest->items[ingest->count];
    ingest->stats.received++;
    item->received_ms = wp_now_ms();
    item->original_len = len;
    item->topic = strdup(topic);
    /* A rejection keeps at most max_payload bytes; original_len says how many came. */
    item->len = len > ingest->opts.max_payload ? ingest->opts.max_payload : len;
    item->payload = malloc(item->len ? item->len : 1);
    if (item->len && item->payload)
        memcpy(item->payload, payload, item->len);
    if (!item->topic || !item->payload || !ingest_classify(ingest, item)) {
        /* Not batched: no ack covers it, so its agent re-sends it. */
        wp_log(WP_LOG_ERR, "out of memory taking a message on %s; dropped unacked", topic);
        ingest_item_clear(item);
        return;
    }

    if (ingest->count == 0)
        ingest->oldest_mono_ms = wp_monotonic_ms();
    ingest->count++;
    if (ingest->count >= ingest->opts.batch_max)
        ingest_flush(ingest);
}

int64_t ingest_due_in_ms(const struct ingest *ingest)
{
    if (ingest->count == 0)
        return -1;
    if (ingest->count >= ingest->opts.batch_max)
        return 0;
    int64_t left = ingest->oldest_mono_ms + ingest->opts.batch_delay_ms - wp_monotonic_ms();
    return left > 0 ? left : 0;
}

const struct ingest_stats *ingest_stats(const struct ingest *ingest)
{
    return &ingest->stats;
}

/* Orders touches by (ward, stream) so that each stream's entries are adjacent. */
static int ingest_touch_cmp(const void *a, const void *b)
{
    const struct ingest_touch *x = a, *y = b;
    int c = strcmp(x->ward, y->ward);
    if (c == 0)
        c = strcmp(x->stream, y->stream);
    if (c == 0)
        c = (x->min_seq > y->min_seq) - (x->min_seq < y->min_seq);
    return c;
}

struct ingest_ack_rejected {
    cJSON *list;
    size_t count;
    int64_t first_left_out;   /* seq of the first rejection beyond the list's limit, or 0 */
    bool nomem;
};

static void ingest_add_rejected_to_ack(void *ctx, int64_t seq, const char *reason)
{
    struct ingest_ack_rejected *r = ctx;
    if (r->count == INGEST_ACK_MAX_REJECTED) {
        r->first_left_out = seq;
        return;
    }
    cJSON *entry = cJSON_CreateObject();
    if (!entry || !cJSON_AddNumberToObject(entry, "seq", (double)seq)
        || !cJSON_AddStringToObject(entry, "reason", reason && reason[0] ? reason : "rejected")
        || !cJSON_AddItemToArray(r->list, entry)) {
        cJSON_Delete(entry);
        r->nomem = true;
        return;
    }
    r->count++;
}

/* Builds the ack text of one stream (caller frees); NULL with *rc set on failure, and
 * NULL with WP_OK when there is nothing to ack yet. */
static char *ingest_build_ack(struct ingest *ingest, const struct ingest_touch *touch,
                              int64_t now_ms, enum wp_err *rc)
{
    int64_t acked_through = 0;
    char *text = NULL;
    *rc = store_advance_ack(ingest->store, touch->ward, touch->stream, now_ms, &acked_through);
    if (*rc != WP_OK || acked_through == 0)
        return NULL;

    cJSON *ack = cJSON_CreateObject();
    cJSON *number = NULL;
    struct ingest_ack_rejected rejected = {0};
    if (!ack || !cJSON_AddNumberToObject(ack, "v", 1)
        || !cJSON_AddStringToObject(ack, "ward", touch->ward)
        || !cJSON_AddStringToObject(ack, "stream", touch->stream)
        || !(number = cJSON_AddNumberToObject(ack, "acked_through", (double)acked_through))
        || !(rejected.list = cJSON_AddArrayToObject(ack, "rejected"))) {
        *rc = WP_ERR_NOMEM;
        goto cleanup;
    }
    if (touch->min_seq <= acked_through) {
        /* One more than fits, to learn whether the list is complete. */
        *rc = store_each_rejected(ingest->store, touch->ward, touch->stream, touch->min_seq,
                                  acked_through, INGEST_ACK_MAX_REJECTED + 1,
                                  ingest_add_rejected_to_ack, &rejected);
        if (*rc == WP_OK && rejected.nomem)
            *rc = WP_ERR_NOMEM;
        if (*rc != WP_OK)
            goto cleanup;
        /* Never tell an agent a rejected report is covered without telling it why: this
         * ack stops short of the first rejection left out; the agent re-sends from there
         * and the next ack carries the following reasons. A smaller cumulative ack is
         * still a true one. */
        if (rejected.first_left_out)
            cJSON_SetNumberValue(number, (double)(rejected.first_left_out - 1));
    }
    if (!(text = cJSON_PrintUnformatted(ack)))
        *rc = WP_ERR_NOMEM;

cleanup:
    cJSON_Delete(ack);
    return text;
}

/* Writes every item of the batch; counts into *tally (committed only if all goes well). */
static enum wp_err ingest_write_batch(struct ingest *ingest, struct ingest_stats *tally)
{
    for (size_t i = 0; i < ingest->count; i++) {
        struct ingest_item *item = &ingest->items[i];
        enum wp_err rc;
        if (item->is_report) {
            rc = store_add_report(ingest->store, &item->report, item->topic, item->payload,
                                  item->len, item->received_ms);
            item->stored = rc == WP_OK;
            if (rc == WP_OK)
                tally->stored++;
        } else {
            struct store_rejection rej = {
                .received_ms = item->received_ms,
                .topic = item->topic,
                .ward = item->topic_ward[0] ? item->topic_ward : NULL,
                .stream = item->report.stream[0] ? item->report.stream : NULL,
                .seq = item->report.seq,
                .reason = item->reason,
                .payload = item->payload,
                .len = item->len,
                .original_len = item->original_len,
            };
            rc = store_add_rejected(ingest->store, &rej);
            if (rc == WP_OK)
                tally->rejected++;
        }
        if (rc == WP_ERR_DUPLICATE) {
            tally->duplicates++;
            wp_log(WP_LOG_DEBUG, "duplicate %s/%s/%lld on %s", item->topic_ward,
                   item->report.stream, (long long)item->report.seq, item->topic);
        } else if (rc != WP_OK) {
            return rc;
        }
    }
    return WP_OK;
}

/* The (ward, stream, min seq) of every ackable item, grouped per stream. */
static size_t ingest_collect_touches(struct ingest *ingest, struct ingest_touch *touches)
{
    size_t n = 0;
    for (size_t i = 0; i < ingest->count; i++) {
        const struct ingest_item *item = &ingest->items[i];
        if (!item->topic_ward[0] || !item->report.stream[0] || item->report.seq <= 0)
            continue;
        touches[n].ward = item->topic_ward;
        touches[n].stream = item->report.stream;
        touches[n].min_seq = item->report.seq;
        n++;
    }
    qsort(touches, n, sizeof *touches, ingest_touch_cmp);
    /* Sorted by seq within a stream, so the first of each run has the smallest seq. */
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || strcmp(touches[unique - 1].ward, touches[i].ward) != 0
            || strcmp(touches[unique - 1].stream, touches[i].stream) != 0)
            touches[unique++] = touches[i];
    return unique;
}

static void ingest_publish_acks(struct ingest *ingest, const struct ingest_touch *touches,
                                char **acks, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!acks[i])
            continue;
        char topic[WP_TOPIC_MAX];
        if (!wp_topic_for_unit(topic, sizeof topic, "ack", touches[i].ward))
            continue;
        if (ingest->opts.publish(ingest->opts.publish_ctx, topic, acks[i], strlen(acks[i])))
            ingest->stats.acks++;
        else
            wp_log(WP_LOG_WARNING, "could not queue the ack on %s; the agent will re-send "
                   "and be acked again", topic);
        wp_log(WP_LOG_DEBUG, "ack %s %s", topic, acks[i]);
    }
}

enum wp_err ingest_flush(struct ingest *ingest)
{
    if (ingest->count == 0)
        return WP_OK;

    enum wp_err rc = WP_OK;
    struct ingest_stats tally = {0};
    size_t touch_count = 0;
    int64_t started = wp_monotonic_ms();
    struct ingest_touch *touches = calloc(ingest->count, sizeof *touches);
    char **acks = calloc(ingest->count, sizeof *acks);
    if (!touches || !acks) {
        rc = WP_ERR_NOMEM;
        wp_log(WP_LOG_ERR, "commit of %zu message(s) skipped: out of memory; not acked",
               ingest->count);
        goto cleanup;
    }

    if ((rc = store_begin(ingest->store)) != WP_OK
        || (rc = ingest_write_batch(ingest, &tally)) != WP_OK)
        goto failed;
    touch_count = ingest_collect_touches(ingest, touches);
    int64_t now_ms = wp_now_ms();
    for (size_t i = 0; i < touch_count; i++) {
        acks[i] = ingest_build_ack(ingest, &touches[i], now_ms, &rc);
        if (rc != WP_OK)
            goto failed;
    }
    if ((rc = store_commit(ingest->store)) != WP_OK)
        goto failed;

    /* Durable now: only from here may an agent be told it can forget these reports. */
    ingest->stats.stored += tally.stored;
    ingest->stats.rejected += tally.rejected;
    ingest->stats.duplicates += tally.duplicates;
    ingest->stats.commits++;
    ingest->stats.last_commit_ms = wp_monotonic_ms() - started;
    ingest->stats.total_commit_ms += ingest->stats.last_commit_ms;
    if (ingest->stats.last_commit_ms > ingest->stats.max_commit_ms)
        ingest->stats.max_commit_ms = ingest->stats.last_commit_ms;
    wp_log(WP_LOG_DEBUG, "committed %zu message(s) in %lld ms: %llu stored, %llu rejected, "
           "%llu duplicate(s)", ingest->count, (long long)ingest->stats.last_commit_ms,
           (unsigned long long)tally.stored, (unsigned long long)tally.rejected,
           (unsigned long long)tally.duplicates);
    ingest_publish_acks(ingest, touches, acks, touch_count);
    if (ingest->opts.committed)
        for (size_t i = 0; i < ingest->count; i++)
            if (ingest->items[i].is_report && ingest->items[i].stored)
                ingest->opts.committed(ingest->opts.hook_ctx, &ingest->items[i].report,
                                       ingest->items[i].received_ms);
    goto cleanup;

failed:
    store_rollback(ingest->store);
    ingest->stats.commit_failures++;
    wp_log(WP_LOG_ERR, "commit of %zu message(s) failed, rolled back, not acked (agents "
           "will re-send): %s: %s", ingest->count, wp_strerror(rc),
           rc == WP_ERR_NOMEM ? "out of memory" : store_errmsg(ingest->store));

cleanup:
    for (size_t i = 0; acks && i < touch_count; i++)
        free(acks[i]);
    free(acks);
    free(touches);
    ingest_batch_clear(ingest);
    return rc;
}
