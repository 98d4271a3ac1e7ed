/* rules.c — what the rule kinds share (contract in rules.h). */
#include "rules.h"
#include "calendar.h"

#include <math.h>
#include <string.h>

void rule_outcome_init(struct rule_outcome *o, const struct plan_rule *rule)
{
    memset(o, 0, sizeof *o);
    o->state = RULE_OK;
    o->severity = rule->severity;
    o->deadline_day = PLAN_DAY_NONE;
}

/* The latest point whose period ended on or before day; NULL when none. */
static const struct rule_point *rule_as_of(const struct rule_series *s, int64_t day)
{
    const struct rule_point *best = NULL;
    for (size_t i = 0; i < s->count && s->points[i].last_day <= day; i++)
        best = &s->points[i];
    return best;
}

bool rule_silent(const struct rule_series *const *series, const char *const *ids, size_t n,
                 int64_t expected_from_day, int silence_days, int64_t today,
                 const char **indicator, const struct rule_point **last, int64_t *since)
{
    if (expected_from_day == PLAN_DAY_NONE)
        return false;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!series[i] || !ids[i])
            continue;
        const struct rule_point *p = rule_as_of(series[i], today);
        int64_t from = p ? p->last_day + 1 : expected_from_day;
        if (from < expected_from_day)
            from = expected_from_day;
        if (today < from + silence_days)
            continue;
        if (!found || from < *since) {
            found = true;
            *since = from;
            *indicator = ids[i];
            *last = p;
        }
    }
    return found;
}

void rule_silence(const struct plan *plan, const struct plan_rule *rule,
                  const struct rule_unit *unit, const char *indicator,
                  const struct rule_point *last, int64_t since, int silence_days, int64_t today,
                  struct rule_outcome *out)
{
    const struct plan_indicator *ind = plan_indicator(plan, indicator);
    out->state = RULE_FIRING;
    out->severity = rule->severity == PLAN_SEVERITY_INFO ? PLAN_SEVERITY_INFO
                                                         : PLAN_SEVERITY_WARNING;
    out->since_ms = wp_day_start_ms(since + silence_days, plan->utc_offset_minutes);
    text_append(&out->vi, "%s chưa gửi số liệu \"%s\"", unit->name_vi,
                ind ? ind->name.vi : indicator);
    text_append(&out->en, "%s has sent no figures for \"%s\"", unit->name_en,
                ind ? ind->name.en : indicator);
    text_append(&out->vi, " từ ngày ");
    text_date_vi(&out->vi, since);
    text_append(&out->vi, " (%d ngày", (int)(today - since));
    text_append(&out->en, " since ");
    text_date_en(&out->en, since);
    text_append(&out->en, " (%d days", (int)(today - since));
    if (!last) {
        text_append(&out->vi, ", chưa gửi lần nào");
        text_append(&out->en, ", never sent");
    } else {
        text_append(&out->vi, "; số liệu gần nhất ngày ");
        text_date_vi(&out->vi, last->last_day);
        text_append(&out->en, "; the latest for ");
        text_date_en(&out->en, last->last_day);
    }
    text_append(&out->vi, ")");
    text_append(&out->en, ")");
}

void rule_group_vi(struct text *t, const char *group)
{
    size_t n = strlen(group);
    if (strcmp(group, "total") == 0)
        text_append(t, "toàn bộ dân số");
    else if (n > 0 && group[n - 1] == 'p')
        text_append(t, "người từ %.*s tuổi", (int)(n - 1), group);
    else
        text_append(t, "người %.*s–%s tuổi", (int)strcspn(group, "_"), group,
                    group + strcspn(group, "_") + (group[strcspn(group, "_")] ? 1 : 0));
}

void rule_group_en(struct text *t, const char *group)
{
    size_t n = strlen(group);
    if (strcmp(group, "total") == 0)
        text_append(t, "the whole population");
    else if (n > 0 && group[n - 1] == 'p')
        text_append(t, "people aged %.*s+", (int)(n - 1), group);
    else
        text_append(t, "people aged %.*s–%s", (int)strcspn(group, "_"), group,
                    group + strcspn(group, "_") + (group[strcspn(group, "_")] ? 1 : 0));
}

/* NQ 128/NQ-CP: cấp 1 nguy cơ thấp (xanh), 2 trung bình (vàng), 3 cao (cam), 4 rất cao (đỏ). */
void rule_level_name_vi(struct text *t, int level, bool short_form)
{
    static const char *const risk[] = {"?", "nguy cơ thấp", "nguy cơ trung bình", "nguy cơ cao",
                                       "nguy cơ rất cao"};
    text_append(t, "cấp độ %d", level);
    if (!short_form)
        text_append(t, " – %s", risk[level >= 1 && level <= 4 ? level : 0]);
    text_append(t, " (màu %s)", rule_level_color_vi(level));
}

void rule_level_name_en(struct text *t, int level, bool short_form)
{
    static const char *const risk[] = {"?", "low risk", "medium risk", "high risk",
                                       "very high risk"};
    text_append(t, "level %d", level);
    if (!short_form)
        text_append(t, " – %s", risk[level >= 1 && level <= 4 ? level : 0]);
    text_append(t, " (%s)", rule_level_color_en(level));
}

/* One decimal, rounded half up as the level summaries always did, with the thousands
 * grouped as each language writes them ("1.496,6" / "1,496.6"). */
static void rule_rate(struct text *t, double rate, bool vi)
{
    long long tenths = (long long)floor(rate * 10 + 0.5);
    if (vi)
        text_number_vi(t, tenths / 10);
    else
        text_number_en(t, tenths / 10);
    text_append(t, "%c%lld", vi ? ',' : '.', tenths % 10);
}

void rule_level_rate_vi(struct text *t, double rate, double per, int window_days)
{
    rule_rate(t, rate, true);
    text_append(t, " ca/");
    text_number_vi(t, (int64_t)per);
    if (window_days == 7)
        text_append(t, " dân/tuần");
    else
        text_append(t, " dân/%d ngày", window_days);
}

void rule_level_rate_en(struct text *t, double rate, double per, int window_days)
{
    rule_rate(t, rate, false);
    text_append(t, " cases/");
    text_number_en(t, (int64_t)per);
    if (window_days == 7)
        text_append(t, " people/week");
    else
        text_append(t, " people/%d days", window_days);
}
