/* rule_task.c — task rules: task_overdue per unit (rules.h). */
#include <string.h>

#include "rules.h"

#define MS_PER_DAY INT64_C(86400000)

int64_t rule_task_due_end_ms(const struct plan *plan, const struct plan_rule *rule)
{
    return text_day_start_ms(rule->u.task.due_day + 1, plan->utc_offset_minutes);
}

/* The offices among the assignees (entries that are not unit codes), for the summary:
 * who must act. */
static void task_offices(const struct plan_rule *rule, struct text *t, const char *lead)
{
    const struct plan_task_rule *task = &rule->u.task;
    size_t shown = 0;
    for (size_t i = 0; i < task->assignee_count; i++) {
        const char *a = task->assignees[i];
        if (a[0] >= '0' && a[0] <= '9')
            continue;
        text_append(t, "%s%s", shown++ ? ", " : lead, a);
    }
}

void rule_task_evaluate(const struct plan *plan, const struct plan_rule *rule,
                        const struct rule_unit *unit, const char *state, int64_t now_ms,
                        struct rule_outcome *out)
{
    const struct plan_task_rule *task = &rule->u.task;
    const struct plan_task *t = plan_task(plan, task->task);
    const char *name_vi = t ? t->name.vi : task->task, *name_en = t ? t->name.en : task->task;
    int64_t due_end = rule_task_due_end_ms(plan, rule);
    bool done = state && strcmp(state, "done") == 0;

    rule_outcome_init(out, rule);
    out->deadline_day = task->due_day;
    if (done) {
        text_append(&out->vi, "%s đã hoàn thành nhiệm vụ \"%s\"", unit->name_vi, name_vi);
        text_append(&out->en, "%s has completed the task \"%s\"", unit->name_en, name_en);
        return;
    }
    if (now_ms < due_end)
        return;
    int64_t days = (now_ms - due_end) / MS_PER_DAY + 1;   /* the day after due is day 1 */
    out->state = RULE_FIRING;
    out->since_ms = due_end;
    out->has_value = true;
    out->value = (double)days;
    text_append(&out->vi, "%s chưa hoàn thành nhiệm vụ \"%s\" (hạn ", unit->name_vi, name_vi);
    text_date_vi(&out->vi, task->due_day);
    text_append(&out->vi, ", quá hạn %lld ngày; trạng thái: %s)", (long long)days,
                !state                              ? "chưa báo cáo"
                : strcmp(state, "in_progress") == 0 ? "đang thực hiện"
                                                    : "chưa bắt đầu");
    task_offices(rule, &out->vi, "; đơn vị thực hiện: ");
    text_append(&out->en, "%s has not completed the task \"%s\" (due ", unit->name_en, name_en);
    text_date_en(&out->en, task->due_day);
    text_append(&out->en, ", %lld day(s) overdue; state: %s)", (long long)days,
                !state                              ? "not reported"
                : strcmp(state, "in_progress") == 0 ? "in progress"
                                                    : "not started");
    task_offices(rule, &out->en, "; responsible: ");
}
