/* array.h — growable arrays: the one grow-by-doubling routine.
 *
 * A growable array is three fields of the caller's own struct: a pointer to the items,
 * a count and a capacity (size_t). wp_array_reserve only makes room; the caller stores
 * items and counts them. The caller owns the items and frees them with free().
 *
 *     if (!WP_ARRAY_RESERVE(f->items, f->cap, f->count + 1))
 *         return WP_ERR_NOMEM;
 *     f->items[f->count++] = item;
 */
#ifndef WP_ARRAY_H
#define WP_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Makes room for at least `need` items of item_size bytes in the array whose pointer is
 * at *items_slot (a `T **`, passed as void *) and whose capacity is *cap: the capacity
 * doubles (from 16) until it holds `need`. Returns true if the room is there; on failure
 * (out of memory, or a size that would overflow) nothing changes and false is returned:
 * the items already stored stay valid. */
bool wp_array_reserve(void *items_slot, size_t *cap, size_t need, size_t item_size);

#define WP_ARRAY_RESERVE(items, cap, need) \
    wp_array_reserve(&(items), &(cap), (need), sizeof *(items))

#endif
