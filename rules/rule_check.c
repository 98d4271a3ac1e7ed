/* rule_check.c — check rules: data_quality per unit and period (rules.h). A check is
 * about figures that do not fit together: its summaries ask the unit to review them. A
 * target missed is a ratio rule (rule_ratio.c). */
#include <string.h>

#include "rules.h"

static int check_point_cmp(const struct rule_point *a, const struct rule_point *b)
{
    if (a->last_day != b->last_day)
        return a->last_day < b->last_day ? -1 : 1;
    if (a->first_day != b->first_day)
        return a->first_day < b->first_day ? -1 : 1;
    return 0;
}

static bool check_holds(enum plan_check_op op, double l, double r)
{
    return op == PLAN_OP_GE ? l >= r : op == PLAN_OP_LE ? l <= r : l == r;
}

/* What the figures are instead of what they should be, for the summary: the relation
 * left op right does not hold, so left is less than, greater than or other than right. */
static const char *check_broken_vi(enum plan_check_op op)
{
    return op == PLAN_OP_GE ? "nhỏ hơn" : op == PLAN_OP_LE ? "lớn hơn" : "khác";
}

static const char *check_broken_en(enum plan_check_op op)
{
    return op == PLAN_OP_GE ? "is less than" : op == PLAN_OP_LE ? "is greater than"
                                                                : "differs from";
}

static void check_name(const struct plan *plan, const char *indicator, bool vi, struct text *t)
{
    const struct plan_indicator *ind = plan_indicator(plan, indicator);
    text_append(t, "\"%s\"", ind ? (vi ? ind->name.vi : ind->name.en) : indicator);
}

/* The end of every data_quality summary: the other periods, and what to do. A check
 * says the figures do not fit together; only the unit can say which one is wrong. */
static void check_end(size_t violations, struct rule_outcome *out)
{
    if (violations > 1) {
        text_append(&out->vi, "; và %zu kỳ báo cáo khác", violations - 1);
        text_append(&out->en, "; and %zu other period(s)", violations - 1);
    }
    text_append(&out->vi, ". Đề nghị rà soát.");
    text_append(&out->en, ". Please review.");
}

static void check_never_decreases(const struct plan *plan, const struct plan_rule *rule,
                                  const struct rule_unit *unit, const struct rule_series *s,
                                  struct rule_outcome *out)
{
    size_t violations = 0;
    const struct rule_point *prev = NULL, *worst_prev = NULL, *worst = NULL;
    for (size_t i = 0; i < s->count; i++) {
        const struct rule_point *p = &s->points[i];
        if (prev && p->value < prev->value) {
            violations++;
            worst_prev = prev;
            worst = p;   /* the latest drop is the one shown */
        }
        prev = p;
    }
    if (!worst)
        return;
    out->state = RULE_FIRING;
    out->has_value = true;
    out->value = (double)(worst->value - worst_prev->value);
    text_append(&out->vi, "Số liệu của %s chưa hợp lý: số cộng dồn ", unit->name_vi);
    check_name(plan, rule->u.check.left, true, &out->vi);
    text_append(&out->vi, " giảm từ ");
    text_number_vi(&out->vi, worst_prev->value);
    text_append(&out->vi, " (");
    text_period_vi(&out->vi, worst_prev->period);
    text_append(&out->vi, ") xuống ");
    text_number_vi(&out->vi, worst->value);
    text_append(&out->vi, " (");
    text_period_vi(&out->vi, worst->period);
    text_append(&out->vi, ")");
    text_append(&out->en, "Figures of %s look wrong: the cumulative count ", unit->name_en);
    check_name(plan, rule->u.check.left, false, &out->en);
    text_append(&out->en, " went down from ");
    text_number_en(&out->en, worst_prev->value);
    text_append(&out->en, " (");
    text_period_en(&out->en, worst_prev->period);
    text_append(&out->en, ") to ");
    text_number_en(&out->en, worst->value);
    text_append(&out->en, " (");
    text_period_en(&out->en, worst->period);
    text_append(&out->en, ")");
    check_end(violations, out);
}

/* One side of a comparison in the summary: "\"name\" (12.000)", or the population
 * "dân số từ 18 tuổi (15.000, số ước tính)". */
static void check_side(const struct plan *plan, const struct rule_unit *unit,
                       const char *indicator, const char *group, double value, bool vi,
                       struct text *t)
{
    const struct plan_unit *u = plan_unit(plan, unit->code);
    bool estimated = !indicator && u && plan_population_estimated(plan, u, group);
    size_t n = group ? strlen(group) : 0;
    if (indicator)
        check_name(plan, indicator, vi, t);
    else if (strcmp(group, "total") == 0)
        text_append(t, vi ? "tổng dân số" : "the total population");
    else if (group[n - 1] == 'p')
        text_append(t, vi ? "dân số từ %.*s tuổi" : "the population aged %.*s+", (int)(n - 1),
                    group);
    else
        text_append(t, vi ? "dân số %.*s–%s tuổi" : "the population aged %.*s–%s",
                    (int)strcspn(group, "_"), group,
                    group + strcspn(group, "_") + (group[strcspn(group, "_")] ? 1 : 0));
    text_append(t, " (");
    if (vi)
        text_number_vi(t, (int64_t)value);
    else
        text_number_en(t, (int64_t)value);
    if (estimated)
        text_append(t, vi ? ", số ước tính" : ", an estimate");
    text_append(t, ")");
}

void rule_check_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct rule_series *left,
                         const struct rule_series *right, double right_constant,
                         struct rule_outcome *out)
{
    const struct plan_check *c = &rule->u.check;
    rule_outcome_init(out, rule);
    if (c->never_decreases) {
        check_never_decreases(plan, rule, unit, left, out);
        return;
    }
    size_t violations = 0, j = 0;
    const struct rule_point *worst = NULL;
    double worst_right = 0;
    for (size_t i = 0; i < left->count; i++) {
        const struct rule_point *l = &left->points[i];
        double r = right_constant;
        if (right) {
            /* Both are ordered the same way: walk right along. */
            while (j < right->count && check_point_cmp(&right->points[j], l) < 0)
                j++;
            if (j == right->count || check_point_cmp(&right->points[j], l) != 0)
                continue;
            r = (double)right->points[j].value;
        }
        if (!check_holds(c->op, (double)l->value, r)) {
            violations++;
            worst = l;
            worst_right = r;
        }
    }
    if (!worst)
        return;
    out->state = RULE_FIRING;
    out->has_value = true;
    out->value = (double)worst->value - worst_right;
    text_append(&out->vi, "Số liệu ");
    text_period_vi(&out->vi, worst->period);
    text_append(&out->vi, " của %s chưa hợp lý: ", unit->name_vi);
    check_side(plan, unit, c->left, NULL, (double)worst->value, true, &out->vi);
    text_append(&out->vi, " %s ", check_broken_vi(c->op));
    check_side(plan, unit, c->right_indicator, c->right_population, worst_right, true,
               &out->vi);
    text_append(&out->en, "Figures of %s for ", unit->name_en);
    text_period_en(&out->en, worst->period);
    text_append(&out->en, " look wrong: ");
    check_side(plan, unit, c->left, NULL, (double)worst->value, false, &out->en);
    text_append(&out->en, " %s ", check_broken_en(c->op));
    check_side(plan, unit, c->right_indicator, c->right_population, worst_right, false,
               &out->en);
    check_end(violations, out);
}
