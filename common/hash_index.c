/* hash_index.c — the hash table of positions (contract in hash_index.h). */
#include "hash_index.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"

uint64_t wp_index_hash_str(const char *s)
{
    return wp_bytes_hash(s, strlen(s));
}

uint64_t wp_index_hash_int(int64_t v)
{
    /* splitmix64's finaliser: consecutive numbers (message ids) spread over the table. */
    uint64_t z = (uint64_t)v + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Puts (hash, pos + 1) into the first empty slot of its probe sequence. */
static void index_place(struct wp_index_slot *slots, size_t slot_count, uint64_t hash,
                        size_t pos1)
{
    size_t mask = slot_count - 1, i = (size_t)hash & mask;
    while (slots[i].pos)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].pos = pos1;
}

bool wp_index_add(struct wp_index *x, uint64_t hash, size_t pos)
{
    if (2 * (x->count + 1) > x->slot_count) {
        size_t count = x->slot_count ? 2 * x->slot_count : 32;
        if (count > SIZE_MAX / sizeof *x->slots)
            return false;
        struct wp_index_slot *slots = calloc(count, sizeof *slots);
        if (!slots)
            return false;
        for (size_t i = 0; i < x->slot_count; i++)
            if (x->slots[i].pos)
                index_place(slots, count, x->slots[i].hash, x->slots[i].pos);
        free(x->slots);
        x->slots = slots;
        x->slot_count = count;
    }
    index_place(x->slots, x->slot_count, hash, pos + 1);
    x->count++;
    return true;
}

size_t wp_index_find(const struct wp_index *x, uint64_t hash, wp_index_same same,
                     const void *ctx, const void *key)
{
    if (x->count == 0)
        return WP_INDEX_NONE;
    size_t mask = x->slot_count - 1;
    for (size_t i = (size_t)hash & mask; x->slots[i].pos; i = (i + 1) & mask)
        if (x->slots[i].hash == hash && same(ctx, x->slots[i].pos - 1, key))
            return x->slots[i].pos - 1;
    return WP_INDEX_NONE;
}

/* The slot holding (hash, pos); slot_count when there is none. */
static size_t index_slot_of(const struct wp_index *x, uint64_t hash, size_t pos)
{
    if (x->count == 0)
        return x->slot_count;
    size_t mask = x->slot_count - 1;
    for (size_t i = (size_t)hash & mask; x->slots[i].pos; i = (i + 1) & mask)
        if (x->slots[i].hash == hash && x->slots[i].pos == pos + 1)
            return i;
    return x->slot_count;
}

void wp_index_remove(struct wp_index *x, uint64_t hash, size_t pos)
{
    size_t i = index_slot_of(x, hash, pos);
    if (i == x->slot_count)
        return;
    /* Backward-shift deletion: every later slot of the run that could have sat at i moves
     * there, so that no probe sequence is broken and no tombstone is needed. */
    size_t mask = x->slot_count - 1;
    for (size_t j = (i + 1) & mask; x->slots[j].pos; j = (j + 1) & mask) {
        size_t home = (size_t)x->slots[j].hash & mask;
        /* The entry at j may move to i when i lies cyclically in [home, j). */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            x->slots[i] = x->slots[j];
            i = j;
        }
    }
    x->slots[i].pos = 0;
    x->count--;
}

void wp_index_move(struct wp_index *x, uint64_t hash, size_t from, size_t to)
{
    size_t i = index_slot_of(x, hash, from);
    if (i != x->slot_count)
        x->slots[i].pos = to + 1;
}

void wp_index_clear(struct wp_index *x)
{
    if (x->slots)
        memset(x->slots, 0, x->slot_count * sizeof *x->slots);
    x->count = 0;
}

void wp_index_free(struct wp_index *x)
{
    free(x->slots);
    x->slots = NULL;
    x->slot_count = x->count = 0;
}
