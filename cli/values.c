/* values.c — values in force and coverage (values.h). */
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "timefmt.h"

static int values_point_cmp(const void *a, const void *b)
{
    const struct cli_point *x = a, *y = b;
    if (x->last_day != y->last_day)
        return x->last_day < y->last_day ? -1 : 1;
    return (x->first_day > y->first_day) - (x->first_day < y->first_day);
}

static struct cli_series *values_add_series(struct cli_values *v, const char *ward)
{
    if (v->count && strcmp(v->series[v->count - 1].ward, ward) == 0)
        return &v->series[v->count - 1];
    struct cli_series *more = realloc(v->series, (v->count + 1) * sizeof *more);
    if (!more)
        return NULL;
    v->series = more;
    struct cli_series *s = &v->series[v->count++];
    memset(s, 0, sizeof *s);
    snprintf(s->ward, sizeof s->ward, "%s", ward);
    return s;
}

static bool values_add_point(struct cli_series *s, const struct cli_point *p, size_t *cap)
{
    if (s->count == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        struct cli_point *more = realloc(s->points, n * sizeof *more);
        if (!more)
            return false;
        s->points = more;
        *cap = n;
    }
    s->points[s->count++] = *p;
    return true;
}

int cli_values_load(sqlite3 *db, const char *command, const char *indicator,
                    struct cli_values *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = cli_db_prepare(db, command,
                                        "SELECT ward, period, value FROM current_values "
                                        "WHERE indicator = ?1 ORDER BY ward");
    if (!stmt)
        return 1;
    sqlite3_bind_text(stmt, 1, indicator, -1, SQLITE_STATIC);
    int rc;
    size_t cap = 0;
    struct cli_series *s = NULL;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *ward = cli_db_text(stmt, 0);
        struct cli_point p = {0, 0, sqlite3_column_int64(stmt, 2)};
        int days = 1;
        if (!wp_period_parse(cli_db_text(stmt, 1), &p.first_day, &days))
            continue;   /* the aggregator stores only valid periods */
        p.last_day = p.first_day + days - 1;
        if (!s || strcmp(s->ward, ward) != 0)
            cap = 0;
        s = values_add_series(out, ward);
        if (!s || !values_add_point(s, &p, &cap)) {
            sqlite3_finalize(stmt);
            fprintf(stderr, "wardpulse %s: out of memory\n", command);
            return 1;
        }
    }
    if (rc != SQLITE_DONE) {
        cli_db_fail(db, command);
        sqlite3_finalize(stmt);
        return 1;
    }
    sqlite3_finalize(stmt);
    for (size_t i = 0; i < out->count; i++)
        qsort(out->series[i].points, out->series[i].count, sizeof(struct cli_point),
              values_point_cmp);
    return 0;
}

void cli_values_free(struct cli_values *values)
{
    for (size_t i = 0; i < values->count; i++)
        free(values->series[i].points);
    free(values->series);
    memset(values, 0, sizeof *values);
}

static const struct cli_series *values_find(const struct cli_values *v, const char *ward)
{
    size_t lo = 0, hi = v ? v->count : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v->series[mid].ward, ward);
        if (c == 0)
            return &v->series[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool cli_values_as_of(const struct cli_values *values, const char *ward, int64_t day,
                      int64_t *value)
{
    const struct cli_series *s = values_find(values, ward);
    if (!s)
        return false;
    /* The last point with last_day <= day. */
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->points[mid].last_day <= day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *value = s->points[lo - 1].value;
    return true;
}

bool cli_values_over(const struct cli_values *values, const char *ward, int64_t first,
                     int64_t last, const char *rollup, int64_t *value)
{
    const struct cli_series *s = values_find(values, ward);
    bool found = false;
    int64_t acc = 0;
    for (size_t i = 0; s && i < s->count; i++) {
        const struct cli_point *p = &s->points[i];
        if (p->first_day < first || p->last_day > last)
            continue;
        if (!found || strcmp(rollup, "latest") == 0)
            acc = p->value;
        else if (strcmp(rollup, "max") == 0)
            acc = p->value > acc ? p->value : acc;
        else
            acc += p->value;
        found = true;
    }
    if (found)
        *value = acc;
    return found;
}

bool cli_coverage(const struct cli_plan *plan, const struct cli_rule *rule,
                  const struct cli_values *num, const struct cli_values *den,
                  const struct cli_unit *unit, const struct cli_unit *const *wards,
                  size_t ward_count, int64_t day, double *ratio)
{
    const struct cli_unit *one[1] = {unit};
    if (unit->level == CLI_UNIT_WARD) {
        wards = one;
        ward_count = 1;
    }
    int64_t numerator = 0, denominator = 0;
    bool any = false;
    for (size_t i = 0; i < ward_count; i++) {
        int64_t n, d = 0;
        if (!cli_values_as_of(num, wards[i]->code, day, &n))
            continue;
        if (rule->denominator && !cli_values_as_of(den, wards[i]->code, day, &d))
            continue;
        numerator += n;
        denominator += d;
        any = true;
    }
    if (!any)
        return false;
    if (!rule->denominator && !cli_plan_population(plan, unit, rule->population, &denominator))
        return false;
    if (denominator <= 0)
        return false;
    *ratio = (double)numerator / (double)denominator;
    return true;
}
