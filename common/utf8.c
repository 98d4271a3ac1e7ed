#include "utf8.h"

#include <stdint.h>

size_t wp_utf8_sequence_length(const unsigned char *s, size_t avail)
{
    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, cp = s[0] & 0x1fu, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, cp = s[0] & 0x0fu, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, cp = s[0] & 0x07u, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

size_t wp_utf8_invalid_at(const void *text, size_t len)
{
    const unsigned char *s = text;
    size_t i = 0;
    while (i < len) {
        size_t n = wp_utf8_sequence_length(s + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}
