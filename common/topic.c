#include "topic.h"

#include <stdio.h>
#include <string.h>

bool wp_topic_for_unit(char *buf, size_t size, const char *kind, const char *unit)
{
    int n = snprintf(buf, size, WP_TOPIC_ROOT "%s/%s", kind, unit);
    return n > 0 && (size_t)n < size;
}

bool wp_unit_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool wp_topic_unit(const char *topic, const char *kind, char out[WP_UNIT_CODE_MAX])
{
    size_t root = strlen(WP_TOPIC_ROOT), klen = strlen(kind);
    if (strncmp(topic, WP_TOPIC_ROOT, root) != 0 || strncmp(topic + root, kind, klen) != 0
        || topic[root + klen] != '/')
        return false;
    const char *code = topic + root + klen + 1;
    size_t n = strlen(code);
    if (n == 0 || n >= WP_UNIT_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    memcpy(out, code, n + 1);
    return true;
}
