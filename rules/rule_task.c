/* rule_task.c — task rules: task_overdue per unit (rules.h). */
#include <string.h>

#include "rules.h"
#include "calendar.h"


int64_t rule_task_due_end_ms(const struct plan *plan, const struct plan_rule *rule)
{
    return wp_day_start_ms(rule->u.task.due_day + 1, plan->utc_offset_minutes);
}

/* The offices of one role among the assignees (entries that are not unit codes), after
 * lead: "; hướng dẫn: Phòng Y tế, Trung tâm Y tế quận". Returns how many. */
static size_t task_offices(const struct plan_rule *rule, enum plan_assignee_role role,
                           struct text *t, const char *lead)
{
    const struct plan_task_rule *task = &rule->u.task;
    size_t shown = 0;
    for (size_t i = 0; i < task->assignee_count; i++) {
        const char *a = task->assignees[i];
        if ((a[0] >= '0' && a[0] <= '9') || task->roles[i] != role)
            continue;
        text_append(t, "%s%s", shown++ ? ", " : lead, a);
    }
    return shown;
}

/* Who must do the task and who helps: ". Chủ trì: UBND phường Phúc Xá; hướng dẫn: Phòng
 * Y tế, Trung tâm Y tế quận; phối hợp: Công an quận." The unit evaluated does its own
 * task, through its People's Committee; offices marked lead share it. */
static void task_roles(const struct plan_rule *rule, const struct rule_unit *unit,
                       struct rule_outcome *out)
{
    /* "Phường Phúc Xá" → "UBND phường Phúc Xá": the unit's kind in lower case. */
    const char *name = unit->name_vi;
    char first = name[0] >= 'A' && name[0] <= 'Z' ? (char)(name[0] - 'A' + 'a') : name[0];
    text_append(&out->vi, ". Chủ trì: UBND %c%s", first, name[0] ? name + 1 : "");
    task_offices(rule, PLAN_ROLE_LEAD, &out->vi, ", ");
    task_offices(rule, PLAN_ROLE_GUIDE, &out->vi, "; hướng dẫn: ");
    task_offices(rule, PLAN_ROLE_SUPPORT, &out->vi, "; phối hợp: ");
    text_append(&out->vi, ".");
    text_append(&out->en, ". Lead: People's Committee of %s", unit->name_en);
    task_offices(rule, PLAN_ROLE_LEAD, &out->en, ", ");
    task_offices(rule, PLAN_ROLE_GUIDE, &out->en, "; guidance: ");
    task_offices(rule, PLAN_ROLE_SUPPORT, &out->en, "; support: ");
    text_append(&out->en, ".");
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
    int64_t days = (now_ms - due_end) / WP_MS_PER_DAY + 1;   /* the day after due is day 1 */
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
    text_append(&out->en, "%s has not completed the task \"%s\" (due ", unit->name_en, name_en);
    text_date_en(&out->en, task->due_day);
    text_append(&out->en, ", %lld day(s) overdue; state: %s)", (long long)days,
                !state                              ? "not reported"
                : strcmp(state, "in_progress") == 0 ? "in progress"
                                                    : "not started");
    task_roles(rule, unit, out);
}
