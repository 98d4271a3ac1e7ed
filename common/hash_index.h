/* hash_index.h — finding an item of the caller's own array by its key in about one probe,
 * whatever the number of items: the one hash table of positions (units of a plan by
 * code, alerts awaiting a PUBACK by key and by mid, units with new reports).
 *
 * The table holds positions into the caller's array (open addressing, linear probing, a
 * power of two of slots, at most half full) with the 64-bit hash of each item's key; it
 * holds no copy of any key: a lookup asks the caller whether the item at a candidate
 * position has the key, and only for positions whose hash matches. The caller keeps the
 * table in step with the array (add after storing an item, remove or renumber when it
 * removes or moves one). A zeroed struct wp_index is an empty table.
 */
#ifndef WP_HASH_INDEX_H
#define WP_HASH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WP_INDEX_NONE SIZE_MAX   /* wp_index_find: no item has the key */

struct wp_index_slot {
    uint64_t hash;
    size_t pos;                  /* position + 1; 0: an empty slot */
};

struct wp_index {
    struct wp_index_slot *slots;
    size_t slot_count, count;
};

/* Whether the caller's item at pos has key. */
typedef bool (*wp_index_same)(const void *ctx, size_t pos, const void *key);

/* Hashes of the usual keys. */
uint64_t wp_index_hash_str(const char *s);
uint64_t wp_index_hash_int(int64_t v);

/* Adds the item at pos, whose key hashes to hash (the caller has checked that no item
 * has its key, when that matters). False when out of memory: the table is unchanged. */
bool wp_index_add(struct wp_index *x, uint64_t hash, size_t pos);

/* The position of the item whose key (hashing to hash) is key, by same(ctx, pos, key);
 * WP_INDEX_NONE when none. */
size_t wp_index_find(const struct wp_index *x, uint64_t hash, wp_index_same same,
                     const void *ctx, const void *key);

/* Forgets the item at pos (its key hashing to hash); nothing when it is not there. */
void wp_index_remove(struct wp_index *x, uint64_t hash, size_t pos);

/* The item at from (its key hashing to hash) has moved to to. */
void wp_index_move(struct wp_index *x, uint64_t hash, size_t from, size_t to);

/* Empties the table, keeping its memory for the next items. */
void wp_index_clear(struct wp_index *x);

/* Frees the table's memory; it is then empty (and may be used again). */
void wp_index_free(struct wp_index *x);

#endif
