/* test_hash_index — the hash table of positions (common/hash_index.c), against a plain
 * array searched from end to end, through adds, removes (with the array's last item moved
 * into the hole, as the callers do) and clears; with a hash that collides on purpose so
 * that long probe runs and backward shifts are exercised. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hash_index.h"

#define KEYS 3000

struct items {
    char keys[KEYS][16];
    size_t count;
};

static bool same_key(const void *ctx, size_t pos, const void *key)
{
    const struct items *it = ctx;
    return strcmp(it->keys[pos], key) == 0;
}

/* Only 64 different hashes: most lookups walk a run of colliding slots. */
static uint64_t weak_hash(const char *s)
{
    return wp_index_hash_str(s) & 63;
}

static size_t linear_find(const struct items *it, const char *key)
{
    for (size_t i = 0; i < it->count; i++)
        if (strcmp(it->keys[i], key) == 0)
            return i;
    return WP_INDEX_NONE;
}

static int check_all(const struct items *it, const struct wp_index *x, bool weak)
{
    int bad = 0;
    char key[16];
    for (int k = 0; k < KEYS; k++) {
        snprintf(key, sizeof key, "u%05d", k);
        uint64_t h = weak ? weak_hash(key) : wp_index_hash_str(key);
        if (wp_index_find(x, h, same_key, it, key) != linear_find(it, key))
            bad++;
    }
    return bad;
}

static void run(bool weak)
{
    static struct items it;
    struct wp_index x = {0};
    it.count = 0;
    CHECK(wp_index_find(&x, 1, same_key, &it, "u00001") == WP_INDEX_NONE);
    srand(weak ? 7 : 13);
    int bad = 0;
    for (int round = 0; round < 4; round++) {
        /* add about half the keys, in a random order, skipping those present */
        for (int n = 0; n < KEYS; n++) {
            char key[16];
            snprintf(key, sizeof key, "u%05d", rand() % KEYS);
            if (linear_find(&it, key) != WP_INDEX_NONE)
                continue;
            memcpy(it.keys[it.count], key, sizeof key);
            CHECK(wp_index_add(&x, weak ? weak_hash(key) : wp_index_hash_str(key), it.count));
            it.count++;
        }
        CHECK(x.count == it.count && 2 * x.count <= x.slot_count);
        bad += check_all(&it, &x, weak);
        /* remove a third, the last item moving into each hole */
        for (size_t n = it.count / 3; n > 0; n--) {
            size_t pos = (size_t)rand() % it.count, last = it.count - 1;
            const char *gone = it.keys[pos];
            wp_index_remove(&x, weak ? weak_hash(gone) : wp_index_hash_str(gone), pos);
            if (pos != last) {
                memcpy(it.keys[pos], it.keys[last], sizeof it.keys[pos]);
                wp_index_move(&x, weak ? weak_hash(it.keys[pos]) : wp_index_hash_str(it.keys[pos]),
                              last, pos);
            }
            it.count--;
        }
        CHECK(x.count == it.count);
        bad += check_all(&it, &x, weak);
    }
    CHECK(bad == 0);
    /* removing what is not there changes nothing */
    size_t before = x.count;
    wp_index_remove(&x, 12345, KEYS + 5);
    CHECK(x.count == before);
    wp_index_clear(&x);
    it.count = 0;
    CHECK(x.count == 0 && check_all(&it, &x, weak) == 0);
    wp_index_free(&x);
    CHECK(x.slots == NULL && x.slot_count == 0);
}

int main(void)
{
    run(false);
    run(true);
    /* message ids: consecutive numbers hash apart */
    CHECK(wp_index_hash_int(1) != wp_index_hash_int(2));
    CHECK((wp_index_hash_int(1) & 1023) != (wp_index_hash_int(2) & 1023)
          || (wp_index_hash_int(2) & 1023) != (wp_index_hash_int(3) & 1023));
    return CHECK_DONE();
}
