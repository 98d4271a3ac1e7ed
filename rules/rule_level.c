/* rule_level.c — level rules: the epidemic level of a unit per ISO week (rules.h). */
#include <string.h>

#include "rules.h"
#include "calendar.h"

const char *rule_level_color_vi(int level)
{
    static const char *const names[] = {"?", "xanh", "vàng", "cam", "đỏ"};
    return names[level >= 1 && level <= 4 ? level : 0];
}

const char *rule_level_color_en(int level)
{
    static const char *const names[] = {"?", "green", "yellow", "orange", "red"};
    return names[level >= 1 && level <= 4 ? level : 0];
}

static const struct plan_level_version *level_version_on(const struct plan_level *l,
                                                         int64_t day)
{
    for (size_t i = 0; i < l->version_count; i++) {
        const struct plan_level_version *v = &l->versions[i];
        if (v->valid_from_day <= day
            && (v->valid_to_day == PLAN_DAY_NONE || day <= v->valid_to_day))
            return v;
    }
    return NULL;
}

/* Whether a condition holds: 1 met, 0 not met, -1 unknown (some figure missing). */
static int level_condition(const struct plan_level_condition *c, const struct level_data *data,
                           int64_t end_day)
{
    for (size_t i = 0; i < c->ratio_count; i++) {
        const struct plan_level_ratio *r = &c->ratios[i];
        const struct rule_series *s = data->series(data->ctx, r->indicator);
        const struct rule_point *latest = NULL;
        for (size_t k = 0; s && k < s->count && s->points[k].last_day <= end_day; k++)
            latest = &s->points[k];
        double people;
        if (!latest || !data->population(data->ctx, r->population, &people) || people <= 0)
            return -1;
        if ((double)latest->value / people * r->per < r->min)
            return 0;
    }
    return 1;
}

/* Days of [start, end] that some point of s covers. */
static int level_days_covered(const struct rule_series *s, int64_t start, int64_t end)
{
    int covered = 0;
    for (int64_t day = start; day <= end; day++)
        for (size_t k = 0; s && k < s->count; k++)
            if (s->points[k].first_day <= day && day <= s->points[k].last_day) {
                covered++;
                break;
            }
    return covered;
}

/* One week; false when it cannot be known. */
static bool level_week_compute(const struct plan_level_version *v,
                               const struct level_data *data, int previous,
                               struct level_week *w)
{
    int64_t end = w->monday + 6, start = end - v->window_days + 1;
    bool any = false;
    int base = 1;
    for (size_t c = 0; c < v->criterion_count && c < RULE_LEVEL_CRITERIA_MAX; c++) {
        const struct plan_level_criterion *crit = &v->criteria[c];
        const struct rule_series *s = data->series(data->ctx, crit->indicator);
        double sum = 0, people;
        bool seen = false;
        for (size_t k = 0; s && k < s->count; k++)
            if (s->points[k].first_day >= start && s->points[k].last_day <= end) {
                sum += (double)s->points[k].value;
                seen = true;
            }
        w->rates[c] = -1;
        w->counts[c] = (int64_t)sum;
        if (crit->expected_daily) {
            int missing = v->window_days - level_days_covered(s, start, end);
            if (missing > w->missing_days)
                w->missing_days = missing;
        }
        if (!seen || !data->population(data->ctx, crit->population, &people) || people <= 0)
            continue;
        any = true;
        w->rates[c] = sum / people * crit->per;
        int lvl = 1;
        if (sum >= (double)crit->min_count)
            for (int t = 0; t < 3; t++)
                lvl += w->rates[c] >= crit->thresholds[t];
        if (lvl > base || (lvl == base && w->rates[w->dominant] < 0)) {
            base = lvl;
            w->dominant = c;
        }
    }
    if (!any)
        return false;
    w->transmission = base;
    int level = base;
    if (v->matrix_columns > 0) {
        size_t unmet = 0;
        for (size_t c = 0; c < v->condition_count; c++)
            if (v->conditions[c].in_matrix && level_condition(&v->conditions[c], data, end) != 1)
                unmet++;
        if (unmet >= v->matrix_columns)
            unmet = v->matrix_columns - 1;
        level = v->matrix[base - 1][unmet];
    }
    for (size_t c = 0; c < v->condition_count; c++)
        if (!v->conditions[c].no_lowering && !v->conditions[c].in_matrix
            && level_condition(&v->conditions[c], data, end) == 0 && level < 4)
            level++;
    for (size_t c = 0; c < v->condition_count; c++)
        if (v->conditions[c].no_lowering && level_condition(&v->conditions[c], data, end) == 0
            && level < previous)
            level = previous;
    /* Missing days can hide events, never add them: the figures there are a floor. */
    if (w->missing_days > 0 && level < previous)
        level = previous;
    w->level = level;
    w->previous = previous;
    w->version = v;
    return true;
}

size_t rule_level_weeks(const struct plan *plan, const struct plan_rule *rule,
                        const struct level_data *data, int64_t now_ms,
                        struct level_week *weeks, size_t max)
{
    const struct plan_level *l = &rule->u.level;
    int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
    int64_t last = wp_monday_of(today) - 7;   /* the last complete week */
    /* The first week: the earliest figure of any criterion, within the versions. */
    int64_t first = INT64_MAX, earliest_version = INT64_MAX;
    for (size_t i = 0; i < l->version_count; i++) {
        const struct plan_level_version *v = &l->versions[i];
        if (v->valid_from_day < earliest_version)
            earliest_version = v->valid_from_day;
        for (size_t c = 0; c < v->criterion_count; c++) {
            const struct rule_series *s = data->series(data->ctx, v->criteria[c].indicator);
            if (s && s->count > 0 && s->points[0].first_day < first)
                first = s->points[0].first_day;
        }
    }
    if (first == INT64_MAX || max == 0)
        return 0;
    if (first < earliest_version)
        first = earliest_version;
    first = wp_monday_of(first);
    /* Only the newest max weeks are kept; one more before them seeds no_lowering. */
    if (last - first > (int64_t)max * 7)
        first = last - (int64_t)max * 7;
    size_t n = 0;
    int previous = 0;
    for (int64_t monday = first; monday <= last; monday += 7) {
        struct level_week w;
        memset(&w, 0, sizeof w);
        w.monday = monday;
        wp_isoweek_format(monday, w.week, sizeof w.week, NULL);
        const struct plan_level_version *v = level_version_on(l, monday + 6);
        if (!v || !level_week_compute(v, data, previous, &w))
            continue;
        previous = w.level;
        if (n == max) {
            memmove(weeks, weeks + 1, (max - 1) * sizeof *weeks);
            n--;
        }
        weeks[n++] = w;
    }
    return n;
}

void rule_level_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct level_week *weeks,
                         size_t count, struct rule_outcome *out)
{
    rule_outcome_init(out, rule);
    if (count == 0)
        return;
    const struct level_week *w = &weeks[count - 1];
    const struct plan_level_version *v = w->version;
    int alert_at = rule->u.level.alert_at_level;
    out->has_value = out->has_target = true;
    out->value_is_news = true;
    out->value = w->level;
    out->target = alert_at;
    int week_no = (w->week[6] - '0') * 10 + (w->week[7] - '0');
    text_append(&out->vi, "%s: cấp độ dịch tuần %d/%.4s là ", unit->name_vi, week_no, w->week);
    text_append(&out->en, "%s: epidemic level in week %d of %.4s is ", unit->name_en, week_no,
                w->week);
    if (w->missing_days > 0) {
        text_append(&out->vi, "ít nhất ");
        text_append(&out->en, "at least ");
    }
    rule_level_name_vi(&out->vi, w->level, false);
    rule_level_name_en(&out->en, w->level, false);
    if (w->previous > 0 && w->previous != w->level) {
        bool up = w->level > w->previous;
        text_append(&out->vi, ", %s từ ", up ? "tăng" : "giảm");
        rule_level_name_vi(&out->vi, w->previous, true);
        text_append(&out->en, ", %s from ", up ? "up" : "down");
        rule_level_name_en(&out->en, w->previous, true);
    }
    size_t d = w->dominant;
    if (d < v->criterion_count && w->rates[d] >= 0) {
        const struct plan_level_criterion *c = &v->criteria[d];
        const struct plan_indicator *ind = plan_indicator(plan, c->indicator);
        text_append(&out->vi, "; %s: ", ind ? ind->name.vi : c->indicator);
        rule_level_rate_vi(&out->vi, w->rates[d], c->per, v->window_days);
        text_append(&out->en, "; %s: ", ind ? ind->name.en : c->indicator);
        rule_level_rate_en(&out->en, w->rates[d], c->per, v->window_days);
    }
    if (v->matrix_columns > 0 && w->transmission != w->level) {
        text_append(&out->vi, "; mức lây nhiễm cấp %d, điều chỉnh theo năng lực đáp ứng và "
                    "tiêm chủng", w->transmission);
        text_append(&out->en, "; transmission at level %d, adjusted for response capacity and "
                    "vaccination", w->transmission);
    }
    if (w->missing_days > 0) {
        text_append(&out->vi, "; tuần chưa đủ số liệu (thiếu %d ngày), cấp độ không hạ vì "
                    "thiếu số liệu", w->missing_days);
        text_append(&out->en, "; the week is incomplete (%d days missing): the level is not "
                    "lowered for missing figures", w->missing_days);
    }
    text_append(&out->vi, " (tiêu chí %s)", v->document);
    text_append(&out->en, " (criteria of %s)", v->document);
    if (w->level >= alert_at) {
        out->state = RULE_FIRING;
        out->since_ms = wp_day_start_ms(w->monday + 7, plan->utc_offset_minutes);
    } else {
        text_append(&out->vi, ", dưới mức cảnh báo (cấp độ %d)", alert_at);
        text_append(&out->en, ", below the alert level (level %d)", alert_at);
    }
}
