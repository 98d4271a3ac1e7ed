/* test_array — the growable array (common/array.c). */
#include <stdint.h>
#include <stdlib.h>

#include "array.h"
#include "check.h"

struct pair {
    int64_t a, b;
};

int main(void)
{
    struct pair *items = NULL;
    size_t count = 0, cap = 0;
    /* grows as items come, keeping every one stored before */
    for (int i = 0; i < 1000; i++) {
        if (!WP_ARRAY_RESERVE(items, cap, count + 1))
            break;
        items[count++] = (struct pair){i, -i};
    }
    CHECK(count == 1000 && cap >= 1000);
    int bad = 0;
    for (size_t i = 0; i < count; i++)
        if (items[i].a != (int64_t)i || items[i].b != -(int64_t)i)
            bad++;
    CHECK(bad == 0);
    /* enough room already: nothing moves */
    struct pair *before = items;
    size_t cap_before = cap;
    CHECK(WP_ARRAY_RESERVE(items, cap, cap));
    CHECK(items == before && cap == cap_before);
    /* a jump: room for all of it at once */
    CHECK(WP_ARRAY_RESERVE(items, cap, 5000) && cap >= 5000);
    CHECK(items[999].a == 999);
    /* a size that would overflow is refused and changes nothing */
    before = items;
    cap_before = cap;
    CHECK(!WP_ARRAY_RESERVE(items, cap, SIZE_MAX / 4));
    CHECK(items == before && cap == cap_before && items[999].b == -999);
    free(items);

    char *text = NULL;
    size_t text_cap = 0;
    CHECK(WP_ARRAY_RESERVE(text, text_cap, 3) && text_cap == 16);
    free(text);
    return CHECK_DONE();
}
