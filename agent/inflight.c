/* inflight.c — when each unacked entry is due (contract in inflight.h). */
#include "inflight.h"

#include <stdlib.h>
#include <string.h>

void inflight_init(struct inflight *f, int64_t ack_timeout_ms)
{
    memset(f, 0, sizeof *f);
    f->ack_timeout_ms = ack_timeout_ms;
}

void inflight_free(struct inflight *f)
{
    free(f->items);
    memset(f, 0, sizeof *f);
}

enum wp_err inflight_append(struct inflight *f, int64_t seq)
{
    if (seq <= f->highest_seq)
        return WP_OK;
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct inflight_entry *grown = realloc(f->items, cap * sizeof *grown);
        if (!grown)
            return WP_ERR_NOMEM;
        f->items = grown;
        f->cap = cap;
    }
    f->items[f->count++] = (struct inflight_entry){.seq = seq, .state = INFLIGHT_PENDING};
    f->highest_seq = seq;
    return WP_OK;
}

void inflight_reset_all(struct inflight *f)
{
    for (size_t i = 0; i < f->count; i++) {
        f->items[i].state = INFLIGHT_PENDING;
        f->items[i].mid = 0;
    }
}

bool inflight_is_due(const struct inflight_entry *e, int64_t now_ms)
{
    return e->state == INFLIGHT_PENDING ||
           (e->state == INFLIGHT_DELIVERED && now_ms >= e->due_ms);
}

void inflight_queued(struct inflight_entry *e, int mid)
{
    e->state = INFLIGHT_QUEUED;
    e->mid = mid;
    e->sends++;
}

bool inflight_delivered(struct inflight *f, int mid, int64_t now_ms)
{
    for (size_t i = 0; i < f->count; i++) {
        struct inflight_entry *e = &f->items[i];
        if (e->state == INFLIGHT_QUEUED && e->mid == mid) {
            e->state = INFLIGHT_DELIVERED;
            e->due_ms = now_ms + f->ack_timeout_ms;
            return true;
        }
    }
    return false;
}

void inflight_failed(struct inflight *f, struct inflight_entry *e, int64_t now_ms)
{
    e->state = INFLIGHT_DELIVERED;
    e->due_ms = now_ms + f->ack_timeout_ms;
}

void inflight_acked(struct inflight *f, int64_t acked_through)
{
    size_t drop = 0;
    while (drop < f->count && f->items[drop].seq <= acked_through)
        drop++;
    if (drop == 0)
        return;
    memmove(f->items, f->items + drop, (f->count - drop) * sizeof *f->items);
    f->count -= drop;
}

void inflight_remove(struct inflight *f, int64_t seq)
{
    for (size_t i = 0; i < f->count; i++) {
        if (f->items[i].seq == seq) {
            memmove(f->items + i, f->items + i + 1, (f->count - i - 1) * sizeof *f->items);
            f->count--;
            return;
        }
    }
}
