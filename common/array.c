/* array.c — growable arrays (contract in array.h). */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool wp_array_reserve(void *items_slot, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return true;
    size_t grown = *cap ? *cap : 16;
    while (grown < need) {
        if (grown > SIZE_MAX / 2)
            return false;
        grown *= 2;
    }
    if (item_size && grown > SIZE_MAX / item_size)
        return false;
    void *items;
    /* The slot holds some `T *`; object pointers share one representation on every
     * platform we build for, and memcpy keeps the access free of aliasing trouble. */
    memcpy(&items, items_slot, sizeof items);
    void *bigger = realloc(items, grown * item_size);
    if (!bigger)
        return false;
    memcpy(items_slot, &bigger, sizeof bigger);
    *cap = grown;
    return true;
}
