/* store_packed.c — the values in force of one (unit, period), packed into one blob of
 * values_in_force (store.h, version 7; store_private.h says the format). One B-tree row
 * per report instead of one per value: what makes a report of 40 values cost ~150 bytes
 * there rather than 1.6 KB, and one write rather than 40. */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

/* LEB128: 7 bits a byte, low first, the high bit says more follow. */
static void packed_put(unsigned char *buf, size_t *len, uint64_t n)
{
    do {
        unsigned char b = n & 0x7f;
        n >>= 7;
        buf[(*len)++] = b | (n ? 0x80 : 0);
    } while (n);
}

static bool packed_get(const unsigned char *buf, size_t len, size_t *at, uint64_t *n)
{
    *n = 0;
    for (int shift = 0; shift < 64 && *at < len; shift += 7) {
        unsigned char b = buf[(*at)++];
        *n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Signed as unsigned, small magnitudes small: 0, -1, 1, -2 … → 0, 1, 2, 3 … */
static uint64_t zigzag(int64_t n)
{
    return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}

static int64_t unzigzag(uint64_t n)
{
    return (int64_t)(n >> 1) ^ -(int64_t)(n & 1);
}

static int packed_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct store_packed_value *)a)->indicator;
    int64_t y = ((const struct store_packed_value *)b)->indicator;
    return (x > y) - (x < y);
}

bool store__packed_decode(const void *blob, size_t len, struct store_packed *out)
{
    const unsigned char *buf = blob;
    size_t at = 0;
    out->count = 0;
    if (len == 0)
        return true;
    if (buf[at++] != STORE_PACKED_FORMAT)
        return false;
    struct store_packed_value prev = {0, 0, 0, 0, 0};
    while (at < len) {
        uint64_t head, n;
        if (!packed_get(buf, len, &at, &head) || !packed_get(buf, len, &at, &n))
            return false;
        struct store_packed_value v = prev;
        v.indicator = prev.indicator + (int64_t)(head >> 3);
        v.value = unzigzag(n);
        int64_t *fields[] = {&v.report_id, &v.first_id, &v.first_judged_ms};
        for (int f = 0; f < 3; f++)
            if (head & (1u << f)) {
                if (!packed_get(buf, len, &at, &n))
                    return false;
                *fields[f] += unzigzag(n);
            }
        struct store_packed_value *slot = store__packed_add(out, v.indicator);
        if (!slot)
            return false;
        *slot = v;
        prev = v;
    }
    return true;
}

bool store__packed_encode(struct store_packed *p, unsigned char **buf, size_t *len,
                          size_t *cap)
{
    qsort(p->v, p->count, sizeof *p->v, packed_cmp);
    /* At most 10 bytes a number, five numbers an entry, and the format byte. */
    size_t need = 1 + p->count * 50;
    if (need > *cap) {
        unsigned char *grown = realloc(*buf, need);
        if (!grown)
            return false;
        *buf = grown;
        *cap = need;
    }
    *len = 0;
    (*buf)[(*len)++] = STORE_PACKED_FORMAT;
    struct store_packed_value prev = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < p->count; i++) {
        const struct store_packed_value *v = &p->v[i];
        unsigned flags = (v->report_id != prev.report_id) | (v->first_id != prev.first_id) << 1
                         | (v->first_judged_ms != prev.first_judged_ms) << 2;
        packed_put(*buf, len, (uint64_t)(v->indicator - prev.indicator) << 3 | flags);
        packed_put(*buf, len, zigzag(v->value));
        if (flags & 1)
            packed_put(*buf, len, zigzag(v->report_id - prev.report_id));
        if (flags & 2)
            packed_put(*buf, len, zigzag(v->first_id - prev.first_id));
        if (flags & 4)
            packed_put(*buf, len, zigzag(v->first_judged_ms - prev.first_judged_ms));
        prev = *v;
    }
    return true;
}

struct store_packed_value *store__packed_find(struct store_packed *p, int64_t indicator)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->v[i].indicator == indicator)
            return &p->v[i];
    return NULL;
}

struct store_packed_value *store__packed_add(struct store_packed *p, int64_t indicator)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct store_packed_value *grown = realloc(p->v, cap * sizeof *grown);
        if (!grown)
            return NULL;
        p->v = grown;
        p->cap = cap;
    }
    struct store_packed_value *v = &p->v[p->count++];
    memset(v, 0, sizeof *v);
    v->indicator = indicator;
    return v;
}

void store__packed_free(struct store_packed *p)
{
    free(p->v);
    p->v = NULL;
    p->count = p->cap = 0;
}
