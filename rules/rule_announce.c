/* rule_announce.c — announce rules: each value > 0 of a daily indicator, the day it is
 * reported (rules.h). */
#include "rules.h"
#include "calendar.h"

/* The unit's point for exactly day (a daily period); NULL when it has none. */
static const struct rule_point *announce_day(const struct rule_series *s, int64_t day)
{
    for (size_t i = 0; s && i < s->count; i++)
        if (s->points[i].first_day == day && s->points[i].last_day == day)
            return &s->points[i];
    return NULL;
}

/* "Phường Phúc Xá báo cáo 1 ca tử vong do COVID-19 ngày 03/05/2022" /
 * "Phường Phúc Xá reported 1 COVID-19 death(s) for 3 May 2022" */
static void announce_said(const struct plan_announce *a, const struct rule_unit *unit,
                          int64_t count, int64_t day, struct rule_outcome *out)
{
    text_append(&out->vi, "%s báo cáo ", unit->name_vi);
    text_number_vi(&out->vi, count);
    text_append(&out->vi, " %s ngày ", a->counted.vi);
    text_date_vi(&out->vi, day);
    text_append(&out->en, "%s reported ", unit->name_en);
    text_number_en(&out->en, count);
    text_append(&out->en, " %s for ", a->counted.en);
    text_date_en(&out->en, day);
}

void rule_announce_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct rule_series *series,
                            int64_t now_ms, struct rule_outcome *out)
{
    const struct plan_announce *a = &rule->u.announce;
    rule_outcome_init(out, rule);
    int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
    const struct rule_point *p = announce_day(series, today);
    if (p && p->value > 0) {
        out->state = RULE_FIRING;
        out->has_value = true;
        out->value = (double)p->value;
        out->value_is_news = true;
        announce_said(a, unit, p->value, today, out);
        return;
    }
    if (p) {
        /* Today's figure, corrected to 0 after it was announced (or 0 all along). */
        text_append(&out->vi, "%s sửa lại số liệu: không có %s ngày ", unit->name_vi,
                    a->counted.vi);
        text_date_vi(&out->vi, today);
        text_append(&out->en, "%s corrected its figure: no %s for ", unit->name_en,
                    a->counted.en);
        text_date_en(&out->en, today);
        return;
    }
    const struct rule_point *y = announce_day(series, today - 1);
    if (y && y->value > 0) {
        text_append(&out->vi, "Đã thông báo trong ngày: ");
        text_append(&out->en, "Announced for the day: ");
        announce_said(a, unit, y->value, today - 1, out);
    }
}
