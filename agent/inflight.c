/* inflight.c — when each unacked entry is due (contract in inflight.h). */
#include "inflight.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"

void inflight_init(struct inflight *f, int64_t first_ms, int64_t max_ms)
{
    memset(f, 0, sizeof *f);
    f->first_ms = first_ms > 0 ? first_ms : 1;
    f->max_ms = max_ms > f->first_ms ? max_ms : f->first_ms;
    /* Agents started by the same boot script at the same second must still draw
     * different jitter, hence getrandom rather than the clock alone. */
    if (getrandom(&f->rng, sizeof f->rng, GRND_NONBLOCK) != (ssize_t)sizeof f->rng)
        f->rng = (uint64_t)wp_monotonic_ms() * 0x9e3779b97f4a7c15u ^ (uint64_t)getpid();
    if (f->rng == 0)
        f->rng = 0x2545f4914f6cdd1du;
}

/* xorshift64*: jitter needs spread, not secrecy, and rand() is shared with others. */
static uint64_t inflight_random(struct inflight *f)
{
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545f4914f6cdd1du;
}

int64_t inflight_wait_ms(struct inflight *f, unsigned n)
{
    int64_t interval = f->first_ms;
    /* Doubling stops at max_ms, so neither the shift nor the product can overflow. */
    for (unsigned i = 1; i < n && interval < f->max_ms; i++)
        interval *= 2;
    if (interval > f->max_ms)
        interval = f->max_ms;
    int64_t spread = interval / 4;
    int64_t jitter = spread > 0 ? (int64_t)(inflight_random(f) % (uint64_t)(spread + 1)) : 0;
    return interval + jitter;
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
    if (!WP_ARRAY_RESERVE(f->items, f->cap, f->count + 1))
        return WP_ERR_NOMEM;
    f->items[f->count++] = (struct inflight_entry){.seq = seq, .state = INFLIGHT_PENDING};
    f->highest_seq = seq;
    return WP_OK;
}

void inflight_reset_all(struct inflight *f)
{
    for (size_t i = 0; i < f->count; i++) {
        f->items[i].state = INFLIGHT_PENDING;
        f->items[i].mid = 0;
        f->items[i].waits = 0;
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
            e->waits++;
            e->due_ms = now_ms + inflight_wait_ms(f, e->waits);
            return true;
        }
    }
    return false;
}

void inflight_failed(struct inflight *f, struct inflight_entry *e, int64_t now_ms)
{
    e->state = INFLIGHT_DELIVERED;
    e->waits++;
    e->due_ms = now_ms + inflight_wait_ms(f, e->waits);
}

size_t inflight_acked(struct inflight *f, int64_t acked_through, int64_t now_ms)
{
    size_t drop = 0;
    while (drop < f->count && f->items[drop].seq <= acked_through)
        drop++;
    if (drop == 0)
        return 0;
    memmove(f->items, f->items + drop, (f->count - drop) * sizeof *f->items);
    f->count -= drop;
    /* Progress: whoever still waits is queued behind what was just acked (inflight.h). */
    for (size_t i = 0; i < f->count; i++) {
        struct inflight_entry *e = &f->items[i];
        if (e->state != INFLIGHT_DELIVERED)
            continue;
        int64_t due = now_ms + inflight_wait_ms(f, e->waits);
        if (due > e->due_ms)
            e->due_ms = due;
    }
    return drop;
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
