/* rules.c — what the rule kinds share (contract in rules.h). */
#include "rules.h"

#include <string.h>

void rule_outcome_init(struct rule_outcome *o, const struct plan_rule *rule)
{
    memset(o, 0, sizeof *o);
    o->state = RULE_OK;
    o->severity = rule->severity;
    o->deadline_day = PLAN_DAY_NONE;
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
