/* spool_problems.c — the list of reasons a spool file is refused (contract in
 * spool_problems.h). */
#include "spool_problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "utf8.h"

static bool spool_problems_reserve(struct spool_problems *p, size_t more)
{
    if (!WP_ARRAY_RESERVE(p->text, p->cap, p->len + more + 1)) {
        p->nomem = true;
        return false;
    }
    return true;
}

/* Problems are read in a terminal and in an .error file, and they quote the clerk's own
 * bytes (a header, a value, a JSON key): control characters become \xNN (a line break
 * would fake another problem line, an escape sequence would drive the terminal), and so
 * does every byte that is not UTF-8, including a character cut by a full buffer. */
static void spool_problem_clean(const char *in, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t len = strlen(in), o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = wp_utf8_sequence_length(s + i, len - i);
        char piece[8];
        if (n == 1 && ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f))
            n = 0;
        size_t plen = n;
        if (n == 0)
            plen = (size_t)snprintf(piece, sizeof piece, "\\x%02X", s[i]);
        else
            memcpy(piece, s + i, n);
        if (o + plen + 1 > size)
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        i += n ? n : 1;
    }
    out[o] = '\0';
}

void spool_problem(struct spool_problems *p, int line, const char *fmt, ...)
{
    p->count++;
    if (p->count > SPOOL_PROBLEMS_SHOWN || p->nomem || p->summed_up)
        return;
    char message[1024];
    int n = line > 0 ? snprintf(message, sizeof message, "line %d: ", line) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message + n, sizeof message - (size_t)n, fmt, ap);
    va_end(ap);
    char clean[4 * sizeof message];
    spool_problem_clean(message, clean, sizeof clean);
    size_t len = strlen(clean);
    if (!spool_problems_reserve(p, len + 1))
        return;
    memcpy(p->text + p->len, clean, len);
    p->len += len;
    p->text[p->len++] = '\n';
    p->text[p->len] = '\0';
}

const char *spool_problems_text(struct spool_problems *p)
{
    static const char nomem[] = "(out of memory while listing the problems)\n";
    size_t shown = p->count < SPOOL_PROBLEMS_SHOWN ? p->count : SPOOL_PROBLEMS_SHOWN;
    if (p->count > shown && !p->summed_up) {
        char more[96];
        int n = snprintf(more, sizeof more, "... and %zu more problem(s)\n", p->count - shown);
        if (spool_problems_reserve(p, (size_t)n)) {
            memcpy(p->text + p->len, more, (size_t)n + 1);
            p->len += (size_t)n;
            p->summed_up = true;
        }
    }
    if (p->nomem && !p->text)
        return nomem;
    return p->text ? p->text : "";
}

void spool_problems_free(struct spool_problems *p)
{
    free(p->text);
    memset(p, 0, sizeof *p);
}
