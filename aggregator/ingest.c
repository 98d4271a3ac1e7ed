/* ingest.c — message → decode → batch → commit → acks (contract in ingest.h). */
#include "ingest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack_payload.h"
#include "clock.h"
#include "log.h"
#include "report.h"
#include "timefmt.h"
#include "topic.h"

#define INGEST_ACK_MAX_REJECTED 1000
/* For an agent that does not say what it holds: how far back an ack lists refusals. */
#define INGEST_ACK_RECENT_SEQS 100
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
    uint64_t content_hash;          /* of the report, or of the bytes if it did not decode */
};

/* A (ward, stream) the batch touched, the smallest seq it brought, and the delivery
 * fields of its latest report that had them (arrival order: the agent's newest view). */
struct ingest_touch {
    const char *ward;
    const char *stream;
    int64_t min_seq;
    int64_t max_seq;
    size_t arrival;            /* index in the batch of the item the delivery fields are from */
    int64_t unacked_from;      /* 0: no report of the batch said */
    int64_t kept_from;
};

/* Wards told today that they are over their bound of kept rejections. */
#define INGEST_FLOODS_MAX 64
/* Streams of clients without delivery fields told that a seq is awaited. */
#define INGEST_GAPS_MAX 64

struct ingest {
    struct store *store;
    struct {
        int64_t day;
        char ward[WP_UNIT_CODE_MAX];
    } floods[INGEST_FLOODS_MAX];
    struct {
        char ward[WP_UNIT_CODE_MAX];
        char stream[WP_STREAM_LEN + 1];
        int64_t awaited;
    } gaps[INGEST_GAPS_MAX];
    size_t gaps_next;                /* the slot to reuse next (oldest first) */
    struct ingest_options opts;
    struct ingest_item *items;      /* opts.batch_max slots (more with caller_flushes) */
    size_t count, cap;
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
    ingest->cap = ingest->opts.batch_max;
    ingest->items = calloc(ingest->cap, sizeof *ingest->items);
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
        /* Not parsed at all: the bound exists so that no one pays for a huge payload.
         * Its hash is of what is kept and of the size it came with. */
        item->content_hash = wp_bytes_hash(item->payload, item->len) ^ (uint64_t)item->original_len;
        snprintf(reason, sizeof reason, "payload of %zu bytes exceeds max_payload (%zu)",
                 item->original_len, ingest->opts.max_payload);
    } else {
        enum wp_err rc = wp_report_decode(item->payload, item->len, &item->report, reason,
                                          sizeof reason);
        if (rc == WP_ERR_NOMEM)
            return false;
        item->content_hash = rc == WP_OK ? wp_report_content_hash(&item->report)
                                         : wp_bytes_hash(item->payload, item->len);
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

/* With caller_flushes the batch may outgrow batch_max until the caller flushes, up to
 * INGEST_HARD_MAX_FACTOR times it, where ingest_message flushes by itself. */
#define INGEST_HARD_MAX_FACTOR 4

void ingest_message(struct ingest *ingest, const char *topic, const void *payload, size_t len)
{
    if (ingest->count == ingest->cap) {
        /* Only with caller_flushes: a full batch is flushed below otherwise. */
        size_t bigger = 2 * ingest->cap;
        struct ingest_item *items = realloc(ingest->items, bigger * sizeof *items);
        if (items) {
            memset(items + ingest->cap, 0, (bigger - ingest->cap) * sizeof *items);
            ingest->items = items;
            ingest->cap = bigger;
        } else {
            ingest_flush(ingest);   /* no room for another: commit what is in hand */
        }
    }
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
    size_t limit = ingest->opts.batch_max;
    if (ingest->opts.caller_flushes && limit <= SIZE_MAX / INGEST_HARD_MAX_FACTOR)
        limit *= INGEST_HARD_MAX_FACTOR;
    if (ingest->count >= limit)
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
    struct wp_ack_rejection list[INGEST_ACK_MAX_REJECTED];   /* reasons owned */
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
    char *copy = strdup(reason ? reason : "");
    if (!copy) {
        r->nomem = true;
        return;
    }
    r->list[r->count++] = (struct wp_ack_rejection){.seq = seq, .reason = copy};
}

/* Builds the ack text of one stream (caller frees); NULL with *rc set on failure, and
 * NULL with WP_OK when there is nothing to ack yet. *state is what the store found. */
static char *ingest_build_ack(struct ingest *ingest, const struct ingest_touch *touch,
                              int64_t now_ms, struct store_ack_state *state, enum wp_err *rc)
{
    char *text = NULL;
    *rc = store_advance_ack(ingest->store, touch->ward, touch->stream, now_ms,
                            touch->unacked_from, touch->kept_from, state);
    if (*rc != WP_OK || (state->acked_through == 0 && state->resend_from == 0))
        return NULL;

    struct wp_ack ack = {.ward = touch->ward, .stream = touch->stream,
                         .acked_through = state->acked_through,
                         .resend_from = state->resend_from};
    struct ingest_ack_rejected *rejected = calloc(1, sizeof *rejected);
    if (!rejected) {
        *rc = WP_ERR_NOMEM;
        return NULL;
    }
    /* Every refusal the agent may not have heard: an ack it missed (a full disk, a lost
     * link) carried some, and an entry it still holds must not be deleted as delivered.
     * From the agent's unacked_from when it says it; for an agent that does not, from
     * the batch's seqs or the stream's last 100, whichever reaches further back. */
    int64_t from = state->unacked_from;
    if (from == 0) {
        from = ack.acked_through > INGEST_ACK_RECENT_SEQS
                   ? ack.acked_through - INGEST_ACK_RECENT_SEQS + 1
                   : 1;
        if (touch->min_seq < from)
            from = touch->min_seq;
    }
    if (from <= ack.acked_through) {
        /* One more than fits, to learn whether the list is complete. */
        *rc = store_each_rejected(ingest->store, touch->ward, touch->stream, from,
                                  ack.acked_through, INGEST_ACK_MAX_REJECTED + 1,
                                  ingest_add_rejected_to_ack, rejected);
        if (*rc == WP_OK && rejected->nomem)
            *rc = WP_ERR_NOMEM;
        if (*rc != WP_OK)
            goto cleanup;
        /* Never tell an agent a rejected report is covered without telling it why: this
         * ack stops short of the first rejection left out; the agent re-sends from there
         * and the next ack carries the following reasons. A smaller cumulative ack is
         * still a true one. */
        if (rejected->first_left_out)
            ack.acked_through = rejected->first_left_out - 1;
    }
    ack.rejected = rejected->list;
    ack.rejected_count = rejected->count;
    if (!(text = wp_ack_encode(&ack)))
        *rc = WP_ERR_NOMEM;

cleanup:
    for (size_t i = 0; i < rejected->count; i++)
        free((char *)rejected->list[i].reason);
    free(rejected);
    return text;
}

/* A report whose (ward, stream, seq) already names other figures: after an outbox was
 * restored from its own backup, say. Acking it as a duplicate would make its figures
 * vanish; it becomes a rejection the ack tells the agent about. */
static enum wp_err ingest_reject_reused(struct ingest_item *item)
{
    char reason[INGEST_REASON_MAX];
    snprintf(reason, sizeof reason,
             "seq %lld of stream %s already names another report with other figures; these "
             "were not stored (was the ward's outbox restored from a backup?); submit them again",
             (long long)item->report.seq, item->report.stream);
    if (!(item->reason = strdup(reason)))
        return WP_ERR_NOMEM;
    item->is_report = false; /* the caller now stores it as a rejection */
    wp_log(WP_LOG_WARNING, "rejected report on %s: %s", item->topic, reason);
    return WP_OK;
}

/* A rejection over its ward's daily bound: counted, and said once per ward and day
 * (not once per message: that would let the flood into the log instead). */
static void ingest_over_bound(struct ingest *ingest, const char *ward, int64_t received_ms,
                              struct ingest_stats *tally)
{
    tally->rejected_not_kept++;
    int64_t day = wp_local_day(received_ms);
    const char *unit = ward ? ward : "";
    size_t slot = INGEST_FLOODS_MAX;
    for (size_t i = 0; i < INGEST_FLOODS_MAX; i++) {
        if (ingest->floods[i].day == day && strcmp(ingest->floods[i].ward, unit) == 0)
            return;
        if (slot == INGEST_FLOODS_MAX && ingest->floods[i].day != day)
            slot = i;
    }
    if (slot == INGEST_FLOODS_MAX)
        slot = 0;
    ingest->floods[slot].day = day;
    snprintf(ingest->floods[slot].ward, sizeof ingest->floods[slot].ward, "%s", unit);
    if (ward && ingest->opts.over_bound)
        ingest->opts.over_bound(ingest->opts.hook_ctx, ward);
    wp_log(WP_LOG_ERR, "ward %s sent more refused messages today than the district keeps "
           "(rejected_max_per_day, rejected_max_bytes_per_day): from now until midnight its "
           "refusals are counted (table rejected_overflow) but their payloads not kept; the "
           "other wards are not affected", unit[0] ? unit : "(topic without a ward)");
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
            if (rc == WP_ERR_CONFLICT && (rc = ingest_reject_reused(item)) != WP_OK)
                return rc;
        }
        if (!item->is_report) {
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
                .content_hash = item->content_hash,
            };
            rc = store_add_rejected(ingest->store, &rej);
            if (rc == WP_OK)
                tally->rejected++;
            if (rc == WP_OK && rej.not_kept)
                ingest_over_bound(ingest, rej.ward, item->received_ms, tally);
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

/* The (ward, stream, min seq) of every ackable item, grouped per stream, with the
 * delivery fields of the stream's latest arrival that carried them. */
static size_t ingest_collect_touches(struct ingest *ingest, struct ingest_touch *touches)
{
    size_t n = 0;
    for (size_t i = 0; i < ingest->count; i++) {
        const struct ingest_item *item = &ingest->items[i];
        if (!item->topic_ward[0] || !item->report.stream[0] || item->report.seq <= 0)
            continue;
        touches[n] = (struct ingest_touch){
            .ward = item->topic_ward,
            .stream = item->report.stream,
            .min_seq = item->report.seq,
            .max_seq = item->report.seq,
            .arrival = i,
            .unacked_from = item->report.unacked_from,
            .kept_from = item->report.kept_from,
        };
        n++;
    }
    qsort(touches, n, sizeof *touches, ingest_touch_cmp);
    /* Sorted by seq within a stream, so the first of each run has the smallest seq. */
    size_t unique = 0;
    for (size_t i = 0; i < n; i++) {
        struct ingest_touch *run = unique ? &touches[unique - 1] : NULL;
        if (!run || strcmp(run->ward, touches[i].ward) != 0
            || strcmp(run->stream, touches[i].stream) != 0) {
            touches[unique++] = touches[i];
            continue;
        }
        run->max_seq = touches[i].max_seq;
        if (touches[i].unacked_from > 0
            && (run->unacked_from == 0 || touches[i].arrival > run->arrival)) {
            run->arrival = touches[i].arrival;
            run->unacked_from = touches[i].unacked_from;
            run->kept_from = touches[i].kept_from;
        }
    }
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

/* After the commit: says what the acks asked for again and what was declared lost. */
/* A client that does not send the delivery fields (unacked_from: an older agent, or
 * another client) cannot be asked to send again: a seq it deleted on an ack that this
 * database no longer remembers (a restored backup) would hold its acks back for ever
 * with nothing said. Said once per awaited seq, with what heals it. */
static void ingest_report_awaited(struct ingest *ingest, const struct ingest_touch *touch,
                                  const struct store_ack_state *st)
{
    if (st->unacked_from > 0 || touch->max_seq <= st->acked_through + 1)
        return;
    int64_t awaited = st->acked_through + 1;
    for (size_t k = 0; k < INGEST_GAPS_MAX; k++)
        if (ingest->gaps[k].awaited == awaited && strcmp(ingest->gaps[k].ward, touch->ward) == 0
            && strcmp(ingest->gaps[k].stream, touch->stream) == 0)
            return;
    size_t slot = ingest->gaps_next;
    ingest->gaps_next = (slot + 1) % INGEST_GAPS_MAX;
    snprintf(ingest->gaps[slot].ward, sizeof ingest->gaps[slot].ward, "%s", touch->ward);
    snprintf(ingest->gaps[slot].stream, sizeof ingest->gaps[slot].stream, "%s", touch->stream);
    ingest->gaps[slot].awaited = awaited;
    wp_log(WP_LOG_WARNING, "ward %s stream %s: seq %lld has not arrived (seq %lld has), so "
           "its acks stay at %lld; its client does not say what it still keeps (no "
           "unacked_from: an older agent), so it cannot be asked to send again. If it never "
           "comes (the district database restored from a backup), upgrade the ward's agent: "
           "it then says what it keeps, and what it no longer has is declared lost",
           touch->ward, touch->stream, (long long)awaited, (long long)touch->max_seq,
           (long long)st->acked_through);
}

static void ingest_report_gaps(struct ingest *ingest, const struct ingest_touch *touches,
                               const struct store_ack_state *states, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct store_ack_state *st = &states[i];
        ingest_report_awaited(ingest, &touches[i], st);
        if (st->lost_count > 0) {
            ingest->stats.lost += (uint64_t)st->lost_count;
            wp_log(WP_LOG_ERR, "ward %s stream %s: %lld report(s) between seq %lld and %lld "
                   "are lost: this database does not have them (restored from an older "
                   "backup?) and the ward no longer keeps them", touches[i].ward,
                   touches[i].stream, (long long)st->lost_count, (long long)st->lost_first,
                   (long long)st->lost_last);
            if (ingest->opts.lost)
                ingest->opts.lost(ingest->opts.hook_ctx, touches[i].ward);
        }
        if (st->resend_from > 0) {
            ingest->stats.resend_requests++;
            wp_log(WP_LOG_WARNING, "ward %s stream %s: seq %lld and later were acknowledged "
                   "before but are not in this database (restored from a backup?); asking "
                   "the ward to send them again", touches[i].ward, touches[i].stream,
                   (long long)st->resend_from);
        }
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
    struct store_ack_state *states = calloc(ingest->count, sizeof *states);
    if (!touches || !acks || !states) {
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
        acks[i] = ingest_build_ack(ingest, &touches[i], now_ms, &states[i], &rc);
        if (rc != WP_OK)
            goto failed;
    }
    if ((rc = store_commit(ingest->store)) != WP_OK)
        goto failed;

    /* Durable now: only from here may an agent be told it can forget these reports. */
    ingest->stats.stored += tally.stored;
    ingest->stats.rejected += tally.rejected;
    ingest->stats.duplicates += tally.duplicates;
    ingest->stats.rejected_not_kept += tally.rejected_not_kept;
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
    ingest_report_gaps(ingest, touches, states, touch_count);
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
    free(states);
    free(touches);
    ingest_batch_clear(ingest);
    return rc;
}
