/* summary_payload.c — the summary and series payloads (summary_payload.h). */
#include "summary_payload.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "alert_text.h"
#include "calendar.h"
#include "rules.h"
#include "timefmt.h"

static double summary_payload_round(double x)
{
    return round(x * 10000) / 10000;
}

static const char *summary_payload_level_of(enum plan_unit_level level)
{
    return level == PLAN_UNIT_CITY ? "city" : level == PLAN_UNIT_DISTRICT ? "district" : "ward";
}

/* {"vi":…,"en":…}; null when the unit has no name. */
static bool summary_payload_name(cJSON *j, const char *key, const char *vi, const char *en)
{
    if (!vi)
        return cJSON_AddNullToObject(j, key) != NULL;
    cJSON *name = cJSON_AddObjectToObject(j, key);
    return name && cJSON_AddStringToObject(name, "vi", vi)
           && cJSON_AddStringToObject(name, "en", en ? en : vi);
}

static bool summary_payload_ratio(cJSON *j, const char *key, int64_t part, int64_t whole)
{
    if (whole <= 0)
        return cJSON_AddNullToObject(j, key) != NULL;
    return cJSON_AddNumberToObject(j, key, summary_payload_round((double)part / (double)whole))
           != NULL;
}

static bool summary_payload_instant(cJSON *j, const char *key, int64_t ms)
{
    char at[40];
    if (ms <= 0)
        return cJSON_AddNullToObject(j, key) != NULL;
    wp_datetime_format_local(ms, at, sizeof at);
    return cJSON_AddStringToObject(j, key, at) != NULL;
}

static bool summary_payload_deadline(cJSON *j, const struct plan_rule *rule)
{
    char day[16];
    if (rule->u.coverage.deadline_day == PLAN_DAY_NONE)
        return cJSON_AddNullToObject(j, "deadline") != NULL;
    wp_date_format(rule->u.coverage.deadline_day, day, sizeof day);
    return cJSON_AddStringToObject(j, "deadline", day) != NULL;
}

static bool summary_payload_level(cJSON *j, const struct summary_unit *u)
{
    if (u->level <= 0)
        return cJSON_AddNullToObject(j, "level") != NULL;
    cJSON *level = cJSON_AddObjectToObject(j, "level");
    struct text vi, en;
    text_clear(&vi);
    text_clear(&en);
    rule_level_name_vi(&vi, u->level, false);
    rule_level_name_en(&en, u->level, false);
    return level && cJSON_AddNumberToObject(level, "level", u->level)
           && cJSON_AddStringToObject(level, "week", u->level_week)
           && summary_payload_name(level, "name", vi.buf, en.buf)
           && cJSON_AddStringToObject(level, "colour", rule_level_color_en(u->level))
           && cJSON_AddBoolToObject(level, "incomplete", u->level_incomplete);
}

const char *summary_payload_scope(const struct summary *s, const struct plan *plan, size_t i)
{
    if (i + 1 < s->unit_count)
        return s->units[i].code;
    return plan ? plan->scope_name : "district";
}

char *summary_payload(const struct summary *s, const struct plan *plan, size_t i)
{
    const struct summary_unit *u = &s->units[i];
    bool served = i + 1 == s->unit_count;
    const struct plan_unit *unit = !plan ? NULL : served ? plan->district : plan->wards[i];
    char *text = NULL;
    cJSON *j = cJSON_CreateObject(), *reporting = NULL, *alerts = NULL, *coverage = NULL;
    if (!j || !cJSON_AddNumberToObject(j, "v", 1)
        || !cJSON_AddStringToObject(j, "district", s->units[s->unit_count - 1].code)
        || !cJSON_AddStringToObject(j, "scope", summary_payload_scope(s, plan, i))
        || !cJSON_AddStringToObject(j, "unit", u->code)
        || !(unit ? cJSON_AddStringToObject(j, "level_of_unit",
                                            summary_payload_level_of(unit->level))
                  : cJSON_AddNullToObject(j, "level_of_unit"))
        || !summary_payload_name(j, "name", u->name_vi, u->name_en)
        || !summary_payload_instant(j, "at", s->at_ms)
        || !summary_payload_instant(j, "last_report", u->last_report_ms)
        || !(reporting = cJSON_AddObjectToObject(j, "reporting"))
        || !cJSON_AddNumberToObject(reporting, "expected", (double)u->rates.expected)
        || !cJSON_AddNumberToObject(reporting, "received", (double)u->rates.received)
        || !cJSON_AddNumberToObject(reporting, "on_time", (double)u->rates.on_time)
        || !summary_payload_ratio(reporting, "completeness", u->rates.received,
                                  u->rates.expected)
        || !summary_payload_ratio(reporting, "timeliness", u->rates.on_time, u->rates.expected)
        || !summary_payload_level(j, u)
        || !(alerts = cJSON_AddObjectToObject(j, "alerts"))
        || !cJSON_AddNumberToObject(alerts, "firing", u->firing)
        || !cJSON_AddNumberToObject(alerts, "critical", u->critical)
        || !(coverage = cJSON_AddArrayToObject(j, "coverage")))
        goto cleanup;
    for (size_t t = 0; t < s->target_count; t++) {
        const struct plan_rule *rule = s->targets[t];
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(coverage, c)
            || !cJSON_AddStringToObject(c, "rule", rule->id)
            || !summary_payload_name(c, "name", rule->name.vi, rule->name.en)
            || !(u->has_coverage[t]
                     ? cJSON_AddNumberToObject(c, "value", summary_payload_round(u->coverage[t]))
                     : cJSON_AddNullToObject(c, "value"))
            || !cJSON_AddNumberToObject(c, "target", rule->u.coverage.target)
            || !summary_payload_deadline(c, rule))
            goto cleanup;
    }
    text = cJSON_PrintUnformatted(j);

cleanup:
    cJSON_Delete(j);
    return text;
}

/* One unit's points: [["2022-05-01",0.412], …]. */
static enum wp_err series_payload_unit(struct series_cache *cache, const struct plan *plan,
                                       const struct plan_rule *rule,
                                       const struct plan_unit *unit, const char *scope,
                                       int64_t today, cJSON *units)
{
    int64_t first;
    enum wp_err err = series_first_figure(cache, plan, rule, unit, &first);
    if (err != WP_OK)
        return err;
    cJSON *u = cJSON_CreateObject(), *points = NULL;
    if (!u || !cJSON_AddItemToArray(units, u) || !cJSON_AddStringToObject(u, "scope", scope)
        || !summary_payload_name(u, "name", unit->name_vi, unit->name_en)
        || !(points = cJSON_AddArrayToObject(u, "points")))
        return WP_ERR_NOMEM;
    if (first == PLAN_DAY_NONE || first > today)
        return WP_OK;
    size_t count = (size_t)(today - first + 1);
    bool *has = calloc(count, sizeof *has);
    double *value = calloc(count, sizeof *value);
    if (!has || !value)
        err = WP_ERR_NOMEM;
    else
        err = series_coverage_days(cache, plan, rule, unit, first, 1, count, has, value);
    for (size_t k = 0; err == WP_OK && k < count; k++) {
        if (!has[k])
            continue;
        char day[16];
        wp_date_format(first + (int64_t)k, day, sizeof day);
        cJSON *p = cJSON_CreateArray();
        if (!p || !cJSON_AddItemToArray(points, p)
            || !cJSON_AddItemToArray(p, cJSON_CreateString(day))
            || !cJSON_AddItemToArray(p, cJSON_CreateNumber(summary_payload_round(value[k]))))
            err = WP_ERR_NOMEM;
    }
    free(has);
    free(value);
    return err;
}

enum wp_err series_payload(struct series_cache *cache, const struct plan *plan,
                           const struct plan_rule *rule, int64_t at_ms, char **out)
{
    *out = NULL;
    int64_t today = wp_local_day_at(at_ms, plan->utc_offset_minutes);
    enum wp_err err = WP_ERR_NOMEM;
    cJSON *j = cJSON_CreateObject(), *units = NULL;
    if (!j || !cJSON_AddNumberToObject(j, "v", 1)
        || !cJSON_AddStringToObject(j, "district", plan->district->code)
        || !cJSON_AddStringToObject(j, "rule", rule->id)
        || !summary_payload_name(j, "name", rule->name.vi, rule->name.en)
        || !cJSON_AddNumberToObject(j, "target", rule->u.coverage.target)
        || !summary_payload_deadline(j, rule)
        || !summary_payload_instant(j, "at", at_ms)
        || !(units = cJSON_AddArrayToObject(j, "units")))
        goto cleanup;
    err = series_payload_unit(cache, plan, rule, plan->district, plan->scope_name, today, units);
    for (size_t i = 0; err == WP_OK && i < plan->ward_count; i++)
        err = series_payload_unit(cache, plan, rule, plan->wards[i], plan->wards[i]->code,
                                  today, units);
    if (err == WP_OK && !(*out = cJSON_PrintUnformatted(j)))
        err = WP_ERR_NOMEM;

cleanup:
    cJSON_Delete(j);
    return err;
}
