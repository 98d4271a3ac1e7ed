/* rule_coverage.c — coverage rules: a target at risk or missed (rules.h). */
#include <math.h>
#include <string.h>

#include "rules.h"
#include "calendar.h"

/* The latest point whose period ended on or before day; NULL when none. */
static const struct rule_point *coverage_as_of(const struct rule_series *s, int64_t day)
{
    const struct rule_point *best = NULL;
    for (size_t i = 0; i < s->count && s->points[i].last_day <= day; i++)
        best = &s->points[i];
    return best;
}

/* "\"rule name\" (mục tiêu 100% đến hết ngày 31/08/2022)" */
static void coverage_goal(const struct plan_rule *rule, struct rule_outcome *out)
{
    const struct plan_coverage *c = &rule->u.coverage;
    text_append(&out->vi, "\"%s\" (mục tiêu ", rule->name.vi);
    text_percent_vi(&out->vi, c->target);
    text_append(&out->vi, " đến hết ngày ");
    text_date_vi(&out->vi, c->deadline_day);
    text_append(&out->vi, ")");
    text_append(&out->en, "\"%s\" (target ", rule->name.en);
    text_percent_en(&out->en, c->target);
    text_append(&out->en, " by the end of ");
    text_date_en(&out->en, c->deadline_day);
    text_append(&out->en, ")");
}

static void coverage_missed(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct rule_series *numerator,
                            double denominator, double ratio, struct rule_outcome *out)
{
    const struct plan_coverage *c = &rule->u.coverage;
    const struct rule_point *at = coverage_as_of(numerator, c->deadline_day);
    out->state = RULE_FIRING;
    out->severity = PLAN_SEVERITY_CRITICAL;
    out->since_ms = wp_day_start_ms(c->deadline_day + 1, plan->utc_offset_minutes);
    text_append(&out->vi, "%s không đạt mục tiêu ", unit->name_vi);
    text_append(&out->en, "%s missed the target ", unit->name_en);
    coverage_goal(rule, out);
    if (at) {
        double r = (double)at->value / denominator;
        text_append(&out->vi, ": đến hạn đạt ");
        text_percent_vi(&out->vi, r);
        text_append(&out->vi, ", còn thiếu ");
        text_points_vi(&out->vi, c->target - r);
        text_append(&out->en, ": ");
        text_percent_en(&out->en, r);
        text_append(&out->en, " by the deadline, ");
        text_points_en(&out->en, c->target - r);
        text_append(&out->en, " short");
    } else {
        text_append(&out->vi, ": không có số liệu đến hạn");
        text_append(&out->en, ": no figures up to the deadline");
    }
    text_append(&out->vi, "; hiện nay ");
    text_percent_vi(&out->vi, ratio);
    text_append(&out->en, "; now ");
    text_percent_en(&out->en, ratio);
}

/* now: the value in force today (its period ends on L = now->last_day); past: the value
 * in force trend_days before L. The trend is taken between the two, over the real days
 * between them, and projected from L: figures that stopped coming are not stretched to
 * today. */
static void coverage_at_risk(const struct plan_rule *rule, const struct rule_unit *unit,
                             int64_t today, const struct rule_point *now,
                             const struct rule_point *past, double denominator,
                             struct rule_outcome *out)
{
    const struct plan_coverage *c = &rule->u.coverage;
    int64_t last = now->last_day;
    int days = (int)(last - past->last_day);
    if (days <= 0)
        return;
    double slope = (double)(now->value - past->value) / days;   /* people per day */
    double left = (double)(c->deadline_day - last);
    double projected = ((double)now->value + slope * left) / denominator;
    if (projected >= c->target)
        return;
    out->state = RULE_FIRING;
    out->severity = rule->severity == PLAN_SEVERITY_INFO ? PLAN_SEVERITY_INFO
                                                         : PLAN_SEVERITY_WARNING;
    double ratio = (double)now->value / denominator;
    double shortfall = c->target - projected;
    int64_t people_short = (int64_t)ceil(c->target * denominator - ((double)now->value
                                                                     + slope * left));
    text_append(&out->vi, "%s có nguy cơ không đạt mục tiêu ", unit->name_vi);
    text_append(&out->en, "%s is at risk of missing the target ", unit->name_en);
    coverage_goal(rule, out);
    text_append(&out->vi, ": đạt ");
    text_percent_vi(&out->vi, ratio);
    text_append(&out->vi, " ngày ");
    text_date_vi(&out->vi, last);
    text_append(&out->en, ": ");
    text_percent_en(&out->en, ratio);
    text_append(&out->en, " on ");
    text_date_en(&out->en, last);
    if (today - last > RULE_COVERAGE_STALE_DAYS) {
        text_append(&out->vi, " (số liệu gần nhất, đã %d ngày)", (int)(today - last));
        text_append(&out->en, " (the latest figures, %d days old)", (int)(today - last));
    }
    if (slope <= 0) {
        text_append(&out->vi, ", không tăng trong %d ngày qua; còn thiếu ", days);
        text_number_vi(&out->vi, people_short);
        text_append(&out->vi, " người");
        text_append(&out->en, ", no progress in the last %d days; ", days);
        text_number_en(&out->en, people_short);
        text_append(&out->en, " people short");
        return;
    }
    int64_t per_day = (int64_t)llround(slope);
    text_append(&out->vi, "; với tốc độ %d ngày qua (", days);
    text_number_vi(&out->vi, per_day);
    text_append(&out->vi, " người/ngày) dự kiến đến hạn đạt ");
    text_percent_vi(&out->vi, projected);
    text_append(&out->vi, ", còn thiếu ");
    text_points_vi(&out->vi, shortfall);
    text_append(&out->vi, " (khoảng ");
    text_number_vi(&out->vi, people_short);
    text_append(&out->vi, " người)");
    text_append(&out->en, "; at the pace of the last %d days (", days);
    text_number_en(&out->en, per_day);
    text_append(&out->en, " people a day) it would reach ");
    text_percent_en(&out->en, projected);
    text_append(&out->en, " by the deadline, ");
    text_points_en(&out->en, shortfall);
    text_append(&out->en, " (about ");
    text_number_en(&out->en, people_short);
    text_append(&out->en, " people) short");
    /* When the target would be reached at this pace. */
    double need = c->target * denominator - (double)now->value;
    double reach_days = ceil(need / slope);
    if (reach_days < 366.0 * 20) {
        int64_t day = last + (int64_t)reach_days;
        text_append(&out->vi, "; sẽ đạt mục tiêu vào khoảng ngày ");
        text_date_vi(&out->vi, day);
        text_append(&out->en, "; it would reach the target around ");
        text_date_en(&out->en, day);
    }
}

/* "số liệu \"Trẻ 5-11 tiêm đủ liều\"" — an indicator as people name it. */
static void coverage_indicator(const struct plan *plan, const char *id, struct rule_outcome *out)
{
    const struct plan_indicator *ind = plan_indicator(plan, id);
    text_append(&out->vi, "\"%s\"", ind ? ind->name.vi : id);
    text_append(&out->en, "\"%s\"", ind ? ind->name.en : id);
}

/* Before the deadline: no figures for the target since `since` (rules.c's words). */
static void coverage_silence(const struct plan *plan, const struct plan_rule *rule,
                             const struct rule_unit *unit, const char *indicator,
                             const struct rule_point *last, int64_t since, int64_t today,
                             struct rule_outcome *out)
{
    rule_silence(plan, rule, unit, indicator, last, since, rule->u.coverage.silence_days,
                 today, out);
    text_append(&out->vi, ", cần cho mục tiêu ");
    text_append(&out->en, ", needed for the target ");
    coverage_goal(rule, out);
}

/* After the deadline with no figures to judge by. */
static void coverage_missed_no_figures(const struct plan *plan, const struct plan_rule *rule,
                                       const struct rule_unit *unit, const char *indicator,
                                       struct rule_outcome *out)
{
    const struct plan_coverage *c = &rule->u.coverage;
    out->state = RULE_FIRING;
    out->severity = PLAN_SEVERITY_CRITICAL;
    out->since_ms = wp_day_start_ms(c->deadline_day + 1, plan->utc_offset_minutes);
    text_append(&out->vi, "%s không đạt mục tiêu ", unit->name_vi);
    text_append(&out->en, "%s missed the target ", unit->name_en);
    coverage_goal(rule, out);
    text_append(&out->vi, ": không có số liệu (chưa gửi số liệu ");
    text_append(&out->en, ": no figures (");
    coverage_indicator(plan, indicator, out);
    text_append(&out->vi, ")");
    text_append(&out->en, " never sent)");
}

bool rule_coverage_value(const struct coverage_input *in, int64_t day, double *ratio)
{
    const struct rule_point *now = coverage_as_of(in->numerator, day);
    if (!now || in->denominator <= 0)
        return false;
    *ratio = (double)now->value / in->denominator;
    return true;
}

void rule_coverage_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct coverage_input *in,
                            int64_t now_ms, struct rule_outcome *out)
{
    const struct plan_coverage *c = &rule->u.coverage;
    int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
    rule_outcome_init(out, rule);
    out->deadline_day = c->deadline_day;
    out->has_target = true;
    out->target = c->target;
    const struct rule_point *now = coverage_as_of(in->numerator, today);
    double ratio = 0;
    bool known = rule_coverage_value(in, today, &ratio);
    if (known) {
        out->has_value = true;
        out->value = ratio;
        if (ratio >= c->target) {
            text_append(&out->vi, "%s đã đạt mục tiêu ", unit->name_vi);
            text_append(&out->en, "%s has met the target ", unit->name_en);
            coverage_goal(rule, out);
            text_append(&out->vi, ": ");
            text_percent_vi(&out->vi, ratio);
            text_append(&out->en, ": ");
            text_percent_en(&out->en, ratio);
            return;
        }
    }
    if (today > c->deadline_day) {
        if (known) {
            coverage_missed(plan, rule, unit, in->numerator, in->denominator, ratio, out);
        } else if (in->expected_from_day != PLAN_DAY_NONE
                   && in->expected_from_day <= c->deadline_day
                   && (!now || in->denominator_series)) {
            /* (A population the plan does not give is the plan's gap, not the unit's.) */
            coverage_missed_no_figures(plan, rule, unit, !now ? c->numerator : c->denominator,
                                       out);
        }
        return;
    }
    const char *indicator = NULL;
    const struct rule_point *last = NULL;
    int64_t since = 0;
    const struct rule_series *series[2] = {in->numerator, in->denominator_series};
    const char *ids[2] = {c->numerator, c->denominator};
    if (rule_silent(series, ids, 2, in->expected_from_day, c->silence_days, today, &indicator,
                    &last, &since)) {
        coverage_silence(plan, rule, unit, indicator, last, since, today, out);
        return;
    }
    if (!known)
        return;   /* not silent for long enough yet: nothing to judge by */
    /* The trend over trend_days before the last figure. Without a value that old there is
     * no trend, and nothing is said yet. */
    const struct rule_point *past = coverage_as_of(in->numerator,
                                                   now->last_day - c->trend_days);
    if (past)
        coverage_at_risk(rule, unit, today, now, past, in->denominator, out);
}
