/* rollup.c — the district's figures handed upward as report files (contract in
 * rollup.h). */
#include "array.h"
#include "rollup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "file.h"
#include "log.h"
#include "rules.h"
#include "store_rollup.h"
#include "timefmt.h"

/* Periods per file: a year of days, a few hundred KiB at most, well under the agent's
 * spool_max_bytes (4 MiB). A first pass over a long history writes several files. */
#define ROLLUP_FILE_PERIODS_MAX 366
/* The agent's spool moves what it took (or refused) into these. */
static const char *const rollup_taken_dirs[] = {"", "done/", "rejected/"};

/* A value handed on before: what the store holds as sent for one period of an indicator. */
struct rollup_sent_value {
    char period[12];
    int64_t value;
};

/* A value to hand on. */
struct rollup_change {
    struct rule_point point;      /* period, its days, and the value */
    size_t indicator;             /* index in the plan's catalog */
};

struct rollup {
    struct store *store;
    char *spool_dir;
    char *unit;
    struct rollup_change *changes;
    size_t change_count, change_cap;
    struct rollup_sent_value *sent;
    size_t sent_cap;
    bool failing;                 /* the last pass failed: say so once it works again */
};

static enum wp_err rollup_db_error(struct rollup *r, enum wp_err rc)
{
    if (rc != WP_OK && rc != WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "rollup: %s", store_errmsg(r->store));
    return rc;
}

enum wp_err rollup_create(struct store *store, const struct rollup_options *opts,
                          struct rollup **out)
{
    *out = NULL;
    struct rollup *r = calloc(1, sizeof *r);
    if (!r)
        return WP_ERR_NOMEM;
    r->store = store;
    r->spool_dir = strdup(opts->spool_dir);
    r->unit = strdup(opts->unit);
    if (!r->spool_dir || !r->unit) {
        rollup_destroy(&r);
        return WP_ERR_NOMEM;
    }
    /* Trailing slashes would only double up in the paths below. */
    for (size_t n = strlen(r->spool_dir); n > 1 && r->spool_dir[n - 1] == '/'; n--)
        r->spool_dir[n - 1] = '\0';
    *out = r;
    return WP_OK;
}

void rollup_destroy(struct rollup **rollup)
{
    if (!rollup || !*rollup)
        return;
    struct rollup *r = *rollup;
    free(r->spool_dir);
    free(r->unit);
    free(r->changes);
    free(r->sent);
    free(r);
    *rollup = NULL;
}

size_t rollup_indicator_count(const struct plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; plan && i < plan->indicator_count; i++)
        n += plan->indicators[i].rollup_up;
    return n;
}

/* ---- what changed ------------------------------------------------------------------ */

static int rollup_sent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rollup_sent_value *)a)->period,
                  ((const struct rollup_sent_value *)b)->period);
}

struct rollup_sent_walk {
    struct rollup *rollup;
    size_t n;
};

static enum wp_err rollup_sent_add(void *ctx, const char *period, int64_t value)
{
    struct rollup_sent_walk *w = ctx;
    struct rollup *r = w->rollup;
    if (!WP_ARRAY_RESERVE(r->sent, r->sent_cap, w->n + 1))
            return WP_ERR_NOMEM;
    snprintf(r->sent[w->n].period, sizeof r->sent[w->n].period, "%s", period);
    r->sent[w->n++].value = value;
    return WP_OK;
}

/* What was sent of one indicator, sorted by period, into r->sent; *n rows. */
static enum wp_err rollup_load_sent(struct rollup *r, const char *indicator, size_t *n)
{
    struct rollup_sent_walk w = {r, 0};
    enum wp_err rc = store_rollup_each_sent(r->store, r->unit, indicator, rollup_sent_add, &w);
    *n = w.n;
    if (rc != WP_OK)
        return rollup_db_error(r, rc);
    if (*n > 1)
        qsort(r->sent, *n, sizeof *r->sent, rollup_sent_cmp);
    return WP_OK;
}

static enum wp_err rollup_add_change(struct rollup *r, const struct rule_point *p,
                                     size_t indicator)
{
    if (!WP_ARRAY_RESERVE(r->changes, r->change_cap, r->change_count + 1))
            return WP_ERR_NOMEM;
    r->changes[r->change_count].point = *p;
    r->changes[r->change_count++].indicator = indicator;
    return WP_OK;
}

/* Every (period, indicator) whose rolled-up value differs from what was sent. */
static enum wp_err rollup_collect(struct rollup *r, struct evaluate *evaluate,
                                  const struct plan *plan)
{
    r->change_count = 0;
    for (size_t i = 0; i < plan->indicator_count; i++) {
        const struct plan_indicator *ind = &plan->indicators[i];
        if (!ind->rollup_up)
            continue;
        const struct rule_series *series = NULL;
        size_t sent = 0;
        enum wp_err rc = evaluate_rolled_up(evaluate, ind->id, &series);
        if (rc == WP_OK)
            rc = rollup_load_sent(r, ind->id, &sent);
        for (size_t k = 0; rc == WP_OK && k < series->count; k++) {
            const struct rule_point *p = &series->points[k];
            struct rollup_sent_value key;
            snprintf(key.period, sizeof key.period, "%s", p->period);
            const struct rollup_sent_value *was =
                sent ? bsearch(&key, r->sent, sent, sizeof *r->sent, rollup_sent_cmp) : NULL;
            if (!was || was->value != p->value)
                rc = rollup_add_change(r, p, i);
        }
        if (rc != WP_OK)
            return rc;
    }
    return WP_OK;
}

/* In time order (a week after the days it ends with), then by catalog order. */
static int rollup_change_cmp(const void *x, const void *y)
{
    const struct rollup_change *a = x, *b = y;
    if (a->point.last_day != b->point.last_day)
        return a->point.last_day < b->point.last_day ? -1 : 1;
    if (a->point.first_day != b->point.first_day)
        return a->point.first_day < b->point.first_day ? -1 : 1;
    if (a->indicator != b->indicator)
        return a->indicator < b->indicator ? -1 : 1;
    return 0;
}

static bool rollup_same_period(const struct rollup_change *a, const struct rollup_change *b)
{
    return strcmp(a->point.period, b->point.period) == 0;
}

/* ---- one file ---------------------------------------------------------------------- */

/* The spool JSON of changes[0..n): one report per period. NULL when out of memory. The
 * text depends on the changes alone, so a pass repeated after a crash writes it again
 * byte for byte. */
static char *rollup_file_text(const struct plan *plan, const struct rollup_change *changes,
                              size_t n, size_t *reports)
{
    char note[2048];   /* names of at most 200 characters each: under the 1000 of a note */
    snprintf(note, sizeof note, "%s: số liệu tổng hợp từ các %s (wardpulse-aggregator) / %s: "
             "figures rolled up from its %s", plan->district->name_vi,
             plan->district->level == PLAN_UNIT_CITY ? "quận, huyện" : "phường",
             plan->district->name_en,
             plan->district->level == PLAN_UNIT_CITY ? "districts" : "wards");
    cJSON *list = cJSON_CreateArray();
    cJSON *report = NULL, *values = NULL;
    bool ok = list != NULL;
    *reports = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (i == 0 || !rollup_same_period(&changes[i - 1], &changes[i])) {
            ok = (report = cJSON_CreateObject()) != NULL;
            if (ok && !cJSON_AddItemToArray(list, report)) {
                cJSON_Delete(report);
                ok = false;
            }
            ok = ok && cJSON_AddStringToObject(report, "period", changes[i].point.period)
                 && (values = cJSON_AddObjectToObject(report, "values"))
                 && cJSON_AddStringToObject(report, "note", note);
            (*reports)++;
        }
        ok = ok && cJSON_AddNumberToObject(values, plan->indicators[changes[i].indicator].id,
                                           (double)changes[i].point.value);
    }
    char *text = ok ? cJSON_Print(list) : NULL;
    cJSON_Delete(list);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    memcpy(line + len, "\n", 2);
    return line;
}

/* 1: path holds exactly text; 0: it does not exist; -1: it holds something else; -2: it
 * cannot be looked at (errno says why). */
static int rollup_file_holds(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -2;
    size_t len = strlen(text), at = 0;
    char buf[4096];
    size_t got;
    int same = 1;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (at + got > len || memcmp(buf, text + at, got) != 0)
            same = 0;
        at += got;
    }
    if (ferror(f) || at != len)
        same = 0;
    fclose(f);
    return same ? 1 : -1;
}

/* Writes text into dir/name the way the spool wants it: complete or not at all. A
 * failure is logged at level (the first of a series as an error, the repeats quieter). */
static enum wp_err rollup_write_file(const char *dir, const char *name, const char *text,
                                     int level)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* Group-readable whatever the umask (the unit's is 0077): the district's agent runs
     * as another user, in the spool folder's group. */
    enum wp_err e = wp_file_write_whole(path, text, strlen(text), 0640, false);
    if (e != WP_OK)
        wp_log(level, "rollup: writing %s: %s; trying again later", path, strerror(errno));
    return e;
}

/* The name of the file, and whether it is there already (a pass repeated after a crash
 * between writing and recording): *present is then true and nothing is to be written.
 * level: of the message when the folder cannot be looked into. */
static enum wp_err rollup_pick_name(struct rollup *r, const char *text, int64_t *id,
                                    char *name, size_t size, bool *present, int level)
{
    enum wp_err rc = store_rollup_next_file_id(r->store, id);
    if (rc != WP_OK)
        return rollup_db_error(r, rc);
    /* Names taken by other contents are skipped; a folder full of them (a database
     * restored from an old backup) is a reason to stop, not to loop. */
    for (int64_t last = *id + 100000; *id < last; (*id)++) {
        snprintf(name, size, "rollup-%s-%08lld.json", r->unit, (long long)*id);
        bool taken = false;
        *present = false;
        for (size_t d = 0; d < sizeof rollup_taken_dirs / sizeof *rollup_taken_dirs; d++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s%s", r->spool_dir, rollup_taken_dirs[d], name);
            int holds = rollup_file_holds(path, text);
            if (holds == -2) {
                wp_log(level, "rollup: looking at %s: %s; trying again later", path,
                       strerror(errno));
                return WP_ERR_IO;
            }
            if (holds == 1)
                *present = true;
            else if (holds < 0)
                taken = true;
        }
        if (*present || !taken)
            return WP_OK;
    }
    wp_log(level, "rollup: %s: 100000 file names after rollup_files' last are taken by other "
           "files; move the old rollup-%s-*.json files away", r->spool_dir, r->unit);
    return WP_ERR_IO;
}

static enum wp_err rollup_record(struct rollup *r, const struct plan *plan,
                                 const struct rollup_change *changes, size_t n, int64_t id,
                                 const char *name, size_t reports)
{
    enum wp_err rc = store_begin(r->store);
    if (rc != WP_OK) {
        wp_log(WP_LOG_ERR, "rollup: %s", store_errmsg(r->store));
        return rc;
    }
    for (size_t i = 0; rc == WP_OK && i < n; i++)
        rc = rollup_db_error(r, store_rollup_set_sent(r->store, r->unit,
                                                      plan->indicators[changes[i].indicator].id,
                                                      changes[i].point.period,
                                                      changes[i].point.value, id));
    if (rc == WP_OK)
        rc = rollup_db_error(r, store_rollup_add_file(r->store, id, r->unit, name, wp_now_ms(),
                                                      reports));
    if (rc == WP_OK && (rc = store_commit(r->store)) != WP_OK)
        wp_log(WP_LOG_ERR, "rollup: %s", store_errmsg(r->store));
    if (rc != WP_OK)
        store_rollback(r->store);
    return rc;
}

/* changes[0..n) (whole periods) into one file, then into the database. */
static enum wp_err rollup_hand_on(struct rollup *r, const struct plan *plan,
                                  const struct rollup_change *changes, size_t n)
{
    size_t reports = 0;
    char *text = rollup_file_text(plan, changes, n, &reports);
    if (!text)
        return WP_ERR_NOMEM;
    char name[128];
    int64_t id = 0;
    bool present = false;
    int level = r->failing ? WP_LOG_DEBUG : WP_LOG_ERR;
    enum wp_err rc = rollup_pick_name(r, text, &id, name, sizeof name, &present, level);
    if (rc == WP_OK && !present)
        rc = rollup_write_file(r->spool_dir, name, text, level);
    if (rc == WP_OK)
        rc = rollup_record(r, plan, changes, n, id, name, reports);
    if (rc == WP_OK)
        wp_log(WP_LOG_INFO, "rollup: %s %s: %zu report(s) of unit %s, %zu value(s), from "
               "%s to %s", present ? "found (written before a restart)" : "wrote", name,
               reports, r->unit, n, changes[0].point.period, changes[n - 1].point.period);
    free(text);
    return rc;
}

enum wp_err rollup_run(struct rollup *r, struct evaluate *evaluate, const struct plan *plan)
{
    if (!plan)
        return WP_OK;
    enum wp_err rc = rollup_collect(r, evaluate, plan);
    if (rc == WP_OK && r->change_count > 1)
        qsort(r->changes, r->change_count, sizeof *r->changes, rollup_change_cmp);
    /* Files of at most ROLLUP_FILE_PERIODS_MAX periods, each period whole in one. */
    size_t start = 0;
    while (rc == WP_OK && start < r->change_count) {
        size_t end = start, periods = 0;
        while (end < r->change_count) {
            if (end == start || !rollup_same_period(&r->changes[end - 1], &r->changes[end])) {
                if (periods == ROLLUP_FILE_PERIODS_MAX)
                    break;
                periods++;
            }
            end++;
        }
        rc = rollup_hand_on(r, plan, r->changes + start, end - start);
        start = end;
    }
    if (rc != WP_OK && rc != WP_ERR_NOMEM)
        r->failing = true;
    else if (rc == WP_OK && r->failing) {
        r->failing = false;
        wp_log(WP_LOG_NOTICE, "rollup: files are written again");
    }
    if (rc == WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "rollup: out of memory; trying again later");
    return rc;
}
