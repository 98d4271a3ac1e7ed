/* jsonschema_pattern.c — the schemas' simple patterns matched without glibc regex
 * (contract in jsonschema_tree.h, "fast patterns").
 *
 * The schemas' patterns are anchored sequences of ASCII characters and classes with
 * bounds, and groups of alternatives: "^[a-z][a-z0-9_]{0,63}$", "^([0-9]{5}|[0-9]{3})$",
 * "^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$". regexec spends ~1 µs on each (a report has
 * ~45 of them: every key of `values` against its patternProperties). Such a pattern is
 * compiled here into a tiny program matched by backtracking over bytes, with a step
 * budget; anything outside that subset (escapes, ".", negated classes, quantified
 * groups, unanchored patterns, non-ASCII) gets no program and stays with regexec, and a
 * match that runs out of budget asks regexec too. Within the subset the verdicts are
 * regexec's: the sets hold ASCII bytes only, so a multi-byte character matches nothing
 * either way, and a quantifier counts bytes exactly where it counts characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema_tree.h"

/* Steps one match may take before it defers to regexec. */
#define PATTERN_STEP_BUDGET 20000
/* Bounds of a pattern the fast path takes: nesting and repetition counts. */
#define PATTERN_MAX_DEPTH 8
#define PATTERN_MAX_REPEAT 1000

struct fast_seq;

struct fast_item {
    bool is_group;
    uint8_t set[16];             /* ASCII bytes the atom accepts (bit per byte) */
    int min, max;                /* repetitions of the atom; max -1: unbounded */
    struct fast_seq *alts;       /* groups: the alternatives */
    size_t alt_count;
};

struct fast_seq {
    struct fast_item *items;
    size_t count;
};

struct jsonschema_fast_pattern {
    struct fast_seq seq;
};

static void seq_free(struct fast_seq *seq)
{
    for (size_t i = 0; i < seq->count; i++) {
        struct fast_item *it = &seq->items[i];
        for (size_t a = 0; a < it->alt_count; a++)
            seq_free(&it->alts[a]);
        free(it->alts);
    }
    free(seq->items);
    seq->items = NULL;
    seq->count = 0;
}

void jsonschema__fast_pattern_free(struct jsonschema_fast_pattern *p)
{
    if (!p)
        return;
    seq_free(&p->seq);
    free(p);
}

static bool is_plain(char ch)
{
    unsigned char c = (unsigned char)ch;
    return c >= 0x20 && c < 0x7f && !strchr(".[]()*+?{}|^$\\", c);
}

static void set_add(uint8_t *set, unsigned char c)
{
    set[c >> 3] = (uint8_t)(set[c >> 3] | 1u << (c & 7));
}

/* A class body after "[", up to its "]": false outside the subset. */
static bool parse_class(const char **s, uint8_t *set)
{
    const char *p = *s;
    if (*p == '^' || *p == ']')
        return false;            /* negated or empty: left to regexec */
    while (*p && *p != ']') {
        unsigned char lo = (unsigned char)*p;
        if (lo < 0x20 || lo >= 0x7f || lo == '\\' || lo == '[')
            return false;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            unsigned char hi = (unsigned char)p[2];
            if (hi < 0x20 || hi >= 0x7f || hi == '\\' || hi == '[' || hi < lo)
                return false;
            for (unsigned c = lo; c <= hi; c++)
                set_add(set, (unsigned char)c);
            p += 3;
        } else {
            set_add(set, lo);
            p++;
        }
    }
    if (*p != ']')
        return false;
    *s = p + 1;
    return true;
}

static bool parse_number(const char **s, int *out)
{
    const char *p = *s;
    long n = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (*p++ - '0');
        if (n > PATTERN_MAX_REPEAT)
            return false;
    }
    *out = (int)n;
    *s = p;
    return true;
}

/* An optional quantifier after an atom: false when malformed or outside the subset. */
static bool parse_quantifier(const char **s, struct fast_item *it)
{
    const char *p = *s;
    it->min = it->max = 1;
    if (*p == '?' || *p == '*' || *p == '+') {
        it->min = *p == '+' ? 1 : 0;
        it->max = *p == '?' ? 1 : -1;
        p++;
    } else if (*p == '{') {
        p++;
        if (!parse_number(&p, &it->min))
            return false;
        it->max = it->min;
        if (*p == ',') {
            p++;
            it->max = -1;
            if (*p != '}' && !parse_number(&p, &it->max))
                return false;
        }
        if (*p++ != '}' || (it->max >= 0 && it->max < it->min))
            return false;
    } else {
        return true;
    }
    if (*p == '?')
        p++;                     /* lazy: the same verdict */
    if (*p == '?' || *p == '*' || *p == '+' || *p == '{')
        return false;            /* a quantifier on a quantifier: regexec says what */
    *s = p;
    return true;
}

static bool parse_alternatives(const char **s, int depth, struct fast_item *group);

/* A sequence up to "|", ")" or the final "$". */
static bool parse_seq(const char **s, int depth, struct fast_seq *seq)
{
    const char *p = *s;
    size_t cap = 0;
    while (*p && *p != '|' && *p != ')' && !(*p == '$' && p[1] == '\0')) {
        if (seq->count == cap) {
            size_t bigger = cap ? 2 * cap : 4;
            struct fast_item *items = realloc(seq->items, bigger * sizeof *items);
            if (!items)
                return false;
            seq->items = items;
            cap = bigger;
        }
        struct fast_item *it = &seq->items[seq->count];
        memset(it, 0, sizeof *it);
        seq->count++;
        if (*p == '(') {
            if (p[1] == '?' || !parse_alternatives(&p, depth + 1, it))
                return false;
            it->min = it->max = 1;
            if (*p == '?' || *p == '*' || *p == '+' || *p == '{')
                return false;    /* a quantified group: left to regexec */
            continue;
        }
        if (*p == '[') {
            p++;
            if (!parse_class(&p, it->set))
                return false;
        } else if (is_plain(*p)) {
            set_add(it->set, (unsigned char)*p++);
        } else {
            return false;
        }
        if (!parse_quantifier(&p, it))
            return false;
    }
    *s = p;
    return true;
}

/* "(" alternatives ")" into group. */
static bool parse_alternatives(const char **s, int depth, struct fast_item *group)
{
    const char *p = *s + 1;
    size_t cap = 0;
    if (depth > PATTERN_MAX_DEPTH)
        return false;
    group->is_group = true;
    for (;;) {
        if (group->alt_count == cap) {
            size_t bigger = cap ? 2 * cap : 4;
            struct fast_seq *alts = realloc(group->alts, bigger * sizeof *alts);
            if (!alts)
                return false;
            group->alts = alts;
            cap = bigger;
        }
        struct fast_seq *alt = &group->alts[group->alt_count++];
        memset(alt, 0, sizeof *alt);
        if (!parse_seq(&p, depth, alt))
            return false;
        if (*p == ')') {
            *s = p + 1;
            return true;
        }
        if (*p != '|')
            return false;
        p++;
    }
}

struct jsonschema_fast_pattern *jsonschema__fast_pattern_compile(const char *source)
{
    size_t len = strlen(source);
    if (len < 2 || source[0] != '^' || source[len - 1] != '$'
        || (len >= 3 && source[len - 2] == '\\'))
        return NULL;
    struct jsonschema_fast_pattern *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const char *s = source + 1;
    if (!parse_seq(&s, 0, &p->seq) || !(s[0] == '$' && s[1] == '\0')) {
        jsonschema__fast_pattern_free(p);
        return NULL;
    }
    return p;
}

/* What is left to match after a group's alternative: the rest of the enclosing
 * sequences, innermost first. */
struct fast_cont {
    const struct fast_seq *seq;
    size_t i;
    const struct fast_cont *next;
};

static bool in_set(const uint8_t *set, unsigned char c)
{
    return c < 0x80 && (set[c >> 3] >> (c & 7) & 1u);
}

/* Does s match items i.. of seq, then k, then the end of the string? *steps counts
 * down; at 0 the answer is meaningless and the caller asks regexec. */
static bool match_from(const struct fast_seq *seq, size_t i, const char *s,
                       const struct fast_cont *k, long *steps)
{
    if (--*steps <= 0)
        return false;
    if (i == seq->count)
        return k ? match_from(k->seq, k->i, s, k->next, steps) : *s == '\0';
    const struct fast_item *it = &seq->items[i];
    if (it->is_group) {
        struct fast_cont rest = {seq, i + 1, k};
        for (size_t a = 0; a < it->alt_count; a++)
            if (match_from(&it->alts[a], 0, s, &rest, steps))
                return true;
        return false;
    }
    int n = 0;
    while ((it->max < 0 || n < it->max) && in_set(it->set, (unsigned char)s[n]))
        n++;
    for (; n >= it->min; n--)    /* greedy, backing off */
        if (match_from(seq, i + 1, s + n, k, steps))
            return true;
        else if (*steps <= 0)
            return false;
    return false;
}

int jsonschema__fast_pattern_match(const struct jsonschema_fast_pattern *p, const char *s)
{
    long steps = PATTERN_STEP_BUDGET;
    bool matched = match_from(&p->seq, 0, s, NULL, &steps);
    return matched ? 1 : steps <= 0 ? -1 : 0;
}
