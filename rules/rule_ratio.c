/* rule_ratio.c — ratio rules: a target per period, missed or met (rules.h). */
#include <string.h>

#include "rules.h"
#include "calendar.h"

static int ratio_point_cmp(const struct rule_point *a, const struct rule_point *b)
{
    if (a->last_day != b->last_day)
        return a->last_day < b->last_day ? -1 : 1;
    if (a->first_day != b->first_day)
        return a->first_day < b->first_day ? -1 : 1;
    return 0;
}

static bool ratio_met(const struct plan_ratio *r, int64_t num, int64_t den)
{
    /* Compared as numerator ≥ target × denominator, so that 0.9 × 10 is not 8.9999… */
    return den <= 0 || (double)num >= r->target * (double)den - 1e-9;
}

/* "3/5 người bệnh nặng, … theo quy định" / "3 of 5 severe … per regulation". */
static void ratio_counts(const struct plan_ratio *r, int64_t num, int64_t den,
                         struct rule_outcome *out)
{
    text_number_vi(&out->vi, num);
    text_append(&out->vi, "/");
    text_number_vi(&out->vi, den);
    text_append(&out->vi, " %s", r->counted.vi);
    text_number_en(&out->en, num);
    text_append(&out->en, " of ");
    text_number_en(&out->en, den);
    text_append(&out->en, " %s", r->counted.en);
    if (r->target < 1.0) {
        /* With a target below 100 % the share says more than the counts. */
        text_append(&out->vi, " (");
        text_percent_vi(&out->vi, (double)num / (double)den);
        text_append(&out->vi, ")");
        text_append(&out->en, " (");
        text_percent_en(&out->en, (double)num / (double)den);
        text_append(&out->en, ")");
    }
}

void rule_ratio_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct rule_series *numerator,
                         const struct rule_series *denominator, int64_t expected_from_day,
                         int64_t now_ms, struct rule_outcome *out)
{
    const struct plan_ratio *r = &rule->u.ratio;
    rule_outcome_init(out, rule);
    out->has_target = true;
    out->target = r->target;
    int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
    const struct rule_series *series[2] = {numerator, denominator};
    const char *ids[2] = {r->numerator, r->denominator};
    const char *indicator = NULL;
    const struct rule_point *last = NULL;
    int64_t since = 0;
    if (rule_silent(series, ids, 2, expected_from_day, r->silence_days, today, &indicator,
                    &last, &since)) {
        rule_silence(plan, rule, unit, indicator, last, since, r->silence_days, today, out);
        text_append(&out->vi, ", cần cho chỉ tiêu \"%s\"", rule->name.vi);
        text_append(&out->en, ", needed for the target \"%s\"", rule->name.en);
        return;
    }
    /* Walk both series (ordered the same way) for the periods they share; keep the latest
     * and how many periods in a row up to it have missed. */
    const struct rule_point *num = NULL, *den = NULL;
    size_t missed_run = 0, j = 0;
    for (size_t i = 0; numerator && denominator && i < numerator->count; i++) {
        const struct rule_point *n = &numerator->points[i];
        while (j < denominator->count && ratio_point_cmp(&denominator->points[j], n) < 0)
            j++;
        if (j == denominator->count || ratio_point_cmp(&denominator->points[j], n) != 0)
            continue;
        num = n;
        den = &denominator->points[j];
        missed_run = ratio_met(r, num->value, den->value) ? 0 : missed_run + 1;
    }
    if (!num || den->value <= 0)
        return;   /* nothing to count yet: nothing said */
    out->has_value = true;
    out->value = (double)num->value / (double)den->value;
    text_append(&out->vi, "%s: ", unit->name_vi);
    text_append(&out->en, "%s: ", unit->name_en);
    if (missed_run == 0) {
        ratio_counts(r, num->value, den->value, out);
        text_append(&out->vi, ", đạt chỉ tiêu ");
        text_percent_vi(&out->vi, r->target);
        text_append(&out->en, ", meeting the ");
        text_percent_en(&out->en, r->target);
        text_append(&out->en, " target");
    } else {
        out->state = RULE_FIRING;
        text_append(&out->vi, "mới có ");
        text_append(&out->en, "only ");
        ratio_counts(r, num->value, den->value, out);
        text_append(&out->vi, ", chưa đạt chỉ tiêu ");
        text_percent_vi(&out->vi, r->target);
        text_append(&out->en, ", short of the ");
        text_percent_en(&out->en, r->target);
        text_append(&out->en, " target");
    }
    text_append(&out->vi, " (");
    text_period_vi(&out->vi, num->period);
    text_append(&out->vi, ")");
    text_append(&out->en, " (");
    text_period_en(&out->en, num->period);
    text_append(&out->en, ")");
    if (missed_run > 1) {
        text_append(&out->vi, "; chưa đạt %zu kỳ báo cáo liên tiếp", missed_run);
        text_append(&out->en, "; short for %zu periods in a row", missed_run);
    }
}
