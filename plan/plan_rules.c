/* plan_rules.c — plan.json's rules: from the validated JSON to struct plan_rule, with the
 * cross-references a schema cannot check (contract in plan.h). */
#include <stdio.h>
#include <string.h>

#include "plan_private.h"
#include "topic.h"

/* The rule being loaded and where to say a problem is. */
struct plan_rules_ctx {
    struct plan *plan;
    size_t index;
    char *err;
    size_t errlen;
};

static enum wp_err plan_rules_fail(struct plan_rules_ctx *ctx, const char *field,
                                   const char *fmt, const char *arg)
{
    char why[512];
    snprintf(why, sizeof why, fmt, arg);
    snprintf(ctx->err, ctx->errlen, "rules[%zu].%s: %s", ctx->index, field, why);
    return WP_ERR_CONFIG;
}

static enum wp_err plan_rules_indicator(struct plan_rules_ctx *ctx, const char *field,
                                        const char *id, const char **out)
{
    if (!plan_indicator(ctx->plan, id))
        return plan_rules_fail(ctx, field, "indicator \"%s\" is not in catalog.json", id);
    return (*out = plan_arena_strdup(ctx->plan->arena, id)) ? WP_OK : WP_ERR_NOMEM;
}

/* The group must be known for every unit the rule is evaluated on (by this aggregator:
 * the served unit and its reporting units). */
static enum wp_err plan_rules_group(struct plan_rules_ctx *ctx, unsigned applies,
                                    const char *field, const char *group, const char **out)
{
    const struct plan *plan = ctx->plan;
    bool city = plan->district->level == PLAN_UNIT_CITY;
    int64_t people;
    for (size_t i = 0; i < plan->ward_count; i++)
        if ((applies & plan_applies_bit(plan->wards[i]))
            && !plan_population(plan, plan->wards[i], group, &people)) {
            char why[200];
            snprintf(why, sizeof why, "population group \"%%s\" is not given for %s %s "
                     "in orgunits.json", city ? "district" : "ward", plan->wards[i]->code);
            return plan_rules_fail(ctx, field, why, group);
        }
    if ((applies & plan_applies_bit(plan->district))
        && !plan_population(plan, plan->district, group, &people))
        return plan_rules_fail(ctx, field,
                               city ? "population group \"%s\" is not given for the city "
                                      "(nor for all its districts) in orgunits.json"
                                    : "population group \"%s\" is not given for the "
                                      "district (nor for all its wards) in orgunits.json",
                               group);
    return (*out = plan_arena_strdup(plan->arena, group)) ? WP_OK : WP_ERR_NOMEM;
}

static enum wp_err plan_rules_coverage(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                       const cJSON *j)
{
    struct plan_coverage *c = &rule->u.coverage;
    enum wp_err rc = plan_rules_indicator(ctx, "numerator", plan_json_string(j, "numerator"),
                                          &c->numerator);
    if (rc == WP_OK && plan_json_string(j, "population"))
        rc = plan_rules_group(ctx, rule->applies_to, "population",
                              plan_json_string(j, "population"), &c->population);
    if (rc == WP_OK && plan_json_string(j, "denominator"))
        rc = plan_rules_indicator(ctx, "denominator", plan_json_string(j, "denominator"),
                                  &c->denominator);
    c->target = plan_json_number(j, "target", 1.0);
    c->deadline_day = plan_json_day(j, "deadline");
    c->trend_days = (int)plan_json_number(j, "trend_days", 14);
    c->silence_days = (int)plan_json_number(j, "silence_days", ctx->plan->silence_days);
    return rc;
}

static enum wp_err plan_rules_schedule(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                       const cJSON *j)
{
    struct plan_schedule *s = &rule->u.schedule;
    const char *cutoff = plan_json_string(j, "cutoff");
    s->weekly = strcmp(plan_json_string(j, "period"), "weekly") == 0;
    s->cutoff_minute = ((cutoff[0] - '0') * 10 + (cutoff[1] - '0')) * 60
                       + (cutoff[3] - '0') * 10 + (cutoff[4] - '0');
    s->cutoff_day_offset = (int)plan_json_number(j, "cutoff_day_offset", 0);
    s->grace_minutes = (int)plan_json_number(j, "grace_minutes", 0);
    s->from_day = plan_json_day(j, "from");
    s->to_day = plan_json_day(j, "to");
    if (s->from_day != PLAN_DAY_NONE && s->to_day != PLAN_DAY_NONE && s->to_day < s->from_day)
        return plan_rules_fail(ctx, "to", "%s", "before from");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "indicators");
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    const char **ids = plan_arena_alloc(ctx->plan->arena, n * sizeof *ids);
    if (!ids)
        return WP_ERR_NOMEM;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        char field[64];
        snprintf(field, sizeof field, "indicators[%zu]", i);
        enum wp_err rc = plan_rules_indicator(ctx, field, item->valuestring, &ids[i]);
        if (rc != WP_OK)
            return rc;
        i++;
    }
    s->indicators = ids;
    s->indicator_count = n;
    return WP_OK;
}

static enum plan_assignee_role plan_rules_role(const char *role, bool unit)
{
    if (!role)
        return unit ? PLAN_ROLE_LEAD : PLAN_ROLE_SUPPORT;
    return strcmp(role, "lead") == 0    ? PLAN_ROLE_LEAD
           : strcmp(role, "guide") == 0 ? PLAN_ROLE_GUIDE
                                        : PLAN_ROLE_SUPPORT;
}

static enum wp_err plan_rules_task(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                   const cJSON *j)
{
    struct plan_task_rule *t = &rule->u.task;
    const char *task = plan_json_string(j, "task");
    if (!plan_task(ctx->plan, task))
        return plan_rules_fail(ctx, "task", "task \"%s\" is not in catalog.json", task);
    if (!(t->task = plan_arena_strdup(ctx->plan->arena, task)))
        return WP_ERR_NOMEM;
    t->due_day = plan_json_day(j, "due");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "assignees");
    size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0, i = 0;
    const char **names = plan_arena_alloc(ctx->plan->arena, n * sizeof *names);
    enum plan_assignee_role *roles = plan_arena_alloc(ctx->plan->arena, n * sizeof *roles);
    if (!names || !roles)
        return WP_ERR_NOMEM;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        /* "00001" or "Phòng Y tế", or {"name": …, "role": …} (plan.schema.json). */
        const char *a = cJSON_IsString(item) ? item->valuestring
                                             : plan_json_string(item, "name");
        const char *role = cJSON_IsString(item) ? NULL : plan_json_string(item, "role");
        char field[64];
        snprintf(field, sizeof field, "assignees[%zu]", i);
        if (wp_unit_code_valid(a)) {
            const struct plan_unit *u = plan_unit(ctx->plan, a);
            const struct plan_unit *served = ctx->plan->district;
            if (!u || !(u == served
                        || ((int)u->level == (int)served->level + 1
                            && strcmp(u->parent, served->code) == 0)))
                return plan_rules_fail(ctx, field,
                                       served->level == PLAN_UNIT_CITY
                                           ? "unit \"%s\" is neither the city nor one of "
                                             "its districts in orgunits.json"
                                           : "unit \"%s\" is neither the district nor "
                                             "one of its wards in orgunits.json", a);
            /* The units named by code are the ones tracked: each does its own task. */
            if (role && strcmp(role, "lead") != 0)
                return plan_rules_fail(ctx, field, "unit \"%s\" is tracked for the task, so "
                                       "its role can only be \"lead\"", a);
        }
        roles[i] = plan_rules_role(role, wp_unit_code_valid(a));
        if (!(names[i++] = plan_arena_strdup(ctx->plan->arena, a)))
            return WP_ERR_NOMEM;
    }
    t->assignees = names;
    t->roles = roles;
    t->assignee_count = n;
    /* The units tracked, by index: evaluating the task on every unit then costs no search
     * of the assignees (up to 1,000) per unit. */
    bool any_code = false;
    for (i = 0; i < n; i++)
        any_code |= names[i][0] >= '0' && names[i][0] <= '9';
    if (any_code) {
        bool *tracked = plan_arena_alloc(ctx->plan->arena,
                                         ctx->plan->unit_count * sizeof *tracked);
        if (!tracked)
            return WP_ERR_NOMEM;
        for (i = 0; i < n; i++) {
            bool code = names[i][0] >= '0' && names[i][0] <= '9';
            const struct plan_unit *u = code ? plan_unit(ctx->plan, names[i]) : NULL;
            if (u)
                tracked[u->index] = true;
        }
        t->tracked = tracked;
    }
    return WP_OK;
}

static enum wp_err plan_rules_check(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                    const cJSON *j)
{
    struct plan_check *c = &rule->u.check;
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(j, "relation");
    const char *never = plan_json_string(rel, "never_decreases");
    if (never) {
        c->never_decreases = true;
        return plan_rules_indicator(ctx, "relation.never_decreases", never, &c->left);
    }
    const char *op = plan_json_string(rel, "op");
    c->op = strcmp(op, ">=") == 0 ? PLAN_OP_GE : strcmp(op, "<=") == 0 ? PLAN_OP_LE : PLAN_OP_EQ;
    enum wp_err rc = plan_rules_indicator(ctx, "relation.left", plan_json_string(rel, "left"),
                                          &c->left);
    const cJSON *right = cJSON_GetObjectItemCaseSensitive(rel, "right");
    if (rc == WP_OK && cJSON_IsString(right))
        rc = plan_rules_indicator(ctx, "relation.right", right->valuestring,
                                  &c->right_indicator);
    else if (rc == WP_OK)
        rc = plan_rules_group(ctx, rule->applies_to, "relation.right.population",
                              plan_json_string(right, "population"), &c->right_population);
    return rc;
}

static enum wp_err plan_rules_ratio(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                    const cJSON *j)
{
    struct plan_ratio *r = &rule->u.ratio;
    enum wp_err rc = plan_rules_indicator(ctx, "numerator", plan_json_string(j, "numerator"),
                                          &r->numerator);
    if (rc == WP_OK)
        rc = plan_rules_indicator(ctx, "denominator", plan_json_string(j, "denominator"),
                                  &r->denominator);
    if (rc != WP_OK)
        return rc;
    if (strcmp(r->numerator, r->denominator) == 0)
        return plan_rules_fail(ctx, "denominator", "\"%s\" is the numerator too",
                               r->denominator);
    r->target = plan_json_number(j, "target", 1.0);
    r->silence_days = (int)plan_json_number(j, "silence_days", ctx->plan->silence_days);
    const cJSON *counted = cJSON_GetObjectItemCaseSensitive(j, "counted");
    const struct plan_indicator *num = plan_indicator(ctx->plan, r->numerator);
    r->counted.vi = plan_arena_strdup(ctx->plan->arena, counted ? plan_json_string(counted, "vi")
                                                                : num->name.vi);
    r->counted.en = plan_arena_strdup(ctx->plan->arena, counted ? plan_json_string(counted, "en")
                                                                : num->name.en);
    return r->counted.vi && r->counted.en ? WP_OK : WP_ERR_NOMEM;
}

static enum wp_err plan_rules_announce(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                       const cJSON *j)
{
    struct plan_announce *a = &rule->u.announce;
    enum wp_err rc = plan_rules_indicator(ctx, "indicator", plan_json_string(j, "indicator"),
                                          &a->indicator);
    if (rc != WP_OK)
        return rc;
    const struct plan_indicator *ind = plan_indicator(ctx->plan, a->indicator);
    if (ind->kind != PLAN_INDICATOR_DAILY)
        return plan_rules_fail(ctx, "indicator", "\"%s\" is not a daily indicator: only a "
                               "day's count can be announced for that day", a->indicator);
    const cJSON *counted = cJSON_GetObjectItemCaseSensitive(j, "counted");
    a->counted.vi = plan_arena_strdup(ctx->plan->arena, counted ? plan_json_string(counted, "vi")
                                                                : ind->name.vi);
    a->counted.en = plan_arena_strdup(ctx->plan->arena, counted ? plan_json_string(counted, "en")
                                                                : ind->name.en);
    return a->counted.vi && a->counted.en ? WP_OK : WP_ERR_NOMEM;
}

static enum wp_err plan_rules_level_version(struct plan_rules_ctx *ctx, unsigned applies,
                                            size_t vi, const cJSON *j,
                                            struct plan_level_version *v)
{
    struct plan_arena *arena = ctx->plan->arena;
    char field[160];
    enum wp_err rc;
    v->id = plan_arena_strdup(arena, plan_json_string(j, "id"));
    v->document = plan_arena_strdup(arena, plan_json_string(j, "document"));
    v->valid_from_day = plan_json_day(j, "valid_from");
    v->valid_to_day = plan_json_day(j, "valid_to");
    v->window_days = (int)plan_json_number(j, "window_days", 7);
    if (!v->id || !v->document)
        return WP_ERR_NOMEM;
    if (v->valid_to_day != PLAN_DAY_NONE && v->valid_to_day < v->valid_from_day) {
        snprintf(field, sizeof field, "versions[%zu].valid_to", vi);
        return plan_rules_fail(ctx, field, "%s", "before valid_from");
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "transmission");
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    struct plan_level_criterion *crit = plan_arena_alloc(arena, n * sizeof *crit);
    if (!crit)
        return WP_ERR_NOMEM;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const char *group = plan_json_string(item, "population");
        snprintf(field, sizeof field, "versions[%zu].transmission[%zu].indicator", vi, i);
        if ((rc = plan_rules_indicator(ctx, field, plan_json_string(item, "indicator"),
                                       &crit[i].indicator)) != WP_OK)
            return rc;
        snprintf(field, sizeof field, "versions[%zu].transmission[%zu].population", vi, i);
        if ((rc = plan_rules_group(ctx, applies, field, group ? group : "total",
                                   &crit[i].population)) != WP_OK)
            return rc;
        crit[i].per = plan_json_number(item, "per", 100000);
        crit[i].min_count = (int64_t)plan_json_number(item, "min_count", 0);
        const cJSON *daily = cJSON_GetObjectItemCaseSensitive(item, "expected_daily");
        crit[i].expected_daily = !cJSON_IsBool(daily) || cJSON_IsTrue(daily);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "thresholds");
        for (int k = 0; k < 3; k++)
            crit[i].thresholds[k] = cJSON_GetArrayItem(t, k)->valuedouble;
        if (!(crit[i].thresholds[0] < crit[i].thresholds[1]
              && crit[i].thresholds[1] < crit[i].thresholds[2])) {
            snprintf(field, sizeof field, "versions[%zu].transmission[%zu].thresholds", vi, i);
            return plan_rules_fail(ctx, field, "%s", "must increase");
        }
        i++;
    }
    v->criteria = crit;
    v->criterion_count = n;

    list = cJSON_GetObjectItemCaseSensitive(j, "conditions");
    n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    struct plan_level_condition *cond = plan_arena_alloc(arena, n * sizeof *cond);
    if (!cond)
        return WP_ERR_NOMEM;
    i = 0;
    size_t in_matrix = 0;
    cJSON_ArrayForEach(item, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        cond[i].name.vi = plan_arena_strdup(arena, plan_json_string(name, "vi"));
        cond[i].name.en = plan_arena_strdup(arena, plan_json_string(name, "en"));
        cond[i].no_lowering = strcmp(plan_json_string(item, "if_unmet"), "no_lowering") == 0;
        cond[i].in_matrix = strcmp(plan_json_string(item, "if_unmet"), "matrix") == 0;
        in_matrix += cond[i].in_matrix;
        const cJSON *all = cJSON_GetObjectItemCaseSensitive(item, "all_of");
        size_t m = (size_t)cJSON_GetArraySize(all), k = 0;
        struct plan_level_ratio *ratios = plan_arena_alloc(arena, m * sizeof *ratios);
        if (!cond[i].name.vi || !cond[i].name.en || !ratios)
            return WP_ERR_NOMEM;
        const cJSON *r;
        cJSON_ArrayForEach(r, all) {
            const char *group = plan_json_string(r, "population");
            snprintf(field, sizeof field, "versions[%zu].conditions[%zu].all_of[%zu].indicator",
                     vi, i, k);
            if ((rc = plan_rules_indicator(ctx, field, plan_json_string(r, "indicator"),
                                           &ratios[k].indicator)) != WP_OK)
                return rc;
            snprintf(field, sizeof field,
                     "versions[%zu].conditions[%zu].all_of[%zu].population", vi, i, k);
            if ((rc = plan_rules_group(ctx, applies, field, group ? group : "total",
                                       &ratios[k].population)) != WP_OK)
                return rc;
            ratios[k].per = plan_json_number(r, "per", 1);
            ratios[k].min = plan_json_number(r, "min", 0);
            k++;
        }
        cond[i].ratios = ratios;
        cond[i].ratio_count = m;
        i++;
    }
    v->conditions = cond;
    v->condition_count = n;

    /* The matrix: one row per transmission level, one column per count of its
     * conditions unmet (0 … all of them). */
    const cJSON *matrix = cJSON_GetObjectItemCaseSensitive(j, "matrix");
    snprintf(field, sizeof field, "versions[%zu].matrix", vi);
    if (!matrix && in_matrix > 0)
        return plan_rules_fail(ctx, field, "%s", "is required: a condition's if_unmet is "
                               "\"matrix\"");
    if (matrix) {
        v->matrix_columns = in_matrix + 1;
        for (int t = 0; t < 4; t++) {
            const cJSON *row = cJSON_GetArrayItem(matrix, t);
            if ((size_t)cJSON_GetArraySize(row) != v->matrix_columns) {
                char why[160];
                snprintf(why, sizeof why, "row %d must have %zu levels (0 to %zu conditions "
                         "with if_unmet \"matrix\" unmet)", t + 1, v->matrix_columns, in_matrix);
                return plan_rules_fail(ctx, field, "%s", why);
            }
            for (size_t u = 0; u < v->matrix_columns; u++)
                v->matrix[t][u] = (int)cJSON_GetArrayItem(row, (int)u)->valuedouble;
        }
    }
    return WP_OK;
}

static enum wp_err plan_rules_level(struct plan_rules_ctx *ctx, struct plan_rule *rule,
                                    const cJSON *j)
{
    struct plan_level *l = &rule->u.level;
    l->alert_at_level = (int)plan_json_number(j, "alert_at_level", 3);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "versions");
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    struct plan_level_version *v = plan_arena_alloc(ctx->plan->arena, n * sizeof *v);
    if (!v)
        return WP_ERR_NOMEM;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        enum wp_err rc = plan_rules_level_version(ctx, rule->applies_to, i, item, &v[i]);
        if (rc != WP_OK)
            return rc;
        for (size_t k = 0; k < i; k++) {
            int64_t a_to = v[i].valid_to_day == PLAN_DAY_NONE ? INT64_MAX : v[i].valid_to_day;
            int64_t b_to = v[k].valid_to_day == PLAN_DAY_NONE ? INT64_MAX : v[k].valid_to_day;
            if (v[i].valid_from_day <= b_to && v[k].valid_from_day <= a_to) {
                char field[64];
                snprintf(field, sizeof field, "versions[%zu].valid_from", i);
                return plan_rules_fail(ctx, field, "overlaps version \"%s\"", v[k].id);
            }
        }
        i++;
    }
    l->versions = v;
    l->version_count = n;
    return WP_OK;
}

static unsigned plan_rules_applies(const char *s)
{
    return strcmp(s, "ward") == 0       ? PLAN_APPLIES_WARD
           : strcmp(s, "district") == 0 ? PLAN_APPLIES_DISTRICT
           : strcmp(s, "city") == 0     ? PLAN_APPLIES_CITY
                                        : PLAN_APPLIES_WARD | PLAN_APPLIES_DISTRICT;
}

static enum plan_rule_kind plan_rules_kind(const char *s)
{
    static const char *const names[] = {"coverage", "schedule", "task", "check", "level"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return (enum plan_rule_kind)i;
    if (strcmp(s, "ratio") == 0)
        return PLAN_RULE_RATIO;
    if (strcmp(s, "announce") == 0)
        return PLAN_RULE_ANNOUNCE;
    return PLAN_RULE_CHECK;   /* unreachable: the schema allows only these */
}

enum wp_err plan_rules_load(struct plan *plan, const cJSON *rules, char *err, size_t errlen)
{
    size_t n = (size_t)cJSON_GetArraySize(rules);
    struct plan_rule *out = plan_arena_alloc(plan->arena, n * sizeof *out);
    struct plan_rules_ctx ctx = {plan, 0, err, errlen};
    if (!out)
        return WP_ERR_NOMEM;
    const cJSON *j;
    cJSON_ArrayForEach(j, rules) {
        struct plan_rule *rule = &out[ctx.index];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
        const cJSON *source = cJSON_GetObjectItemCaseSensitive(j, "source");
        const char *severity = plan_json_string(j, "severity");
        char src[512];
        snprintf(src, sizeof src, "%s, %s", plan_json_string(source, "document"),
                 plan_json_string(source, "section"));
        rule->id = plan_arena_strdup(plan->arena, plan_json_string(j, "id"));
        rule->kind = plan_rules_kind(plan_json_string(j, "kind"));
        rule->name.vi = plan_arena_strdup(plan->arena, plan_json_string(name, "vi"));
        rule->name.en = plan_arena_strdup(plan->arena, plan_json_string(name, "en"));
        rule->severity = strcmp(severity, "critical") == 0  ? PLAN_SEVERITY_CRITICAL
                         : strcmp(severity, "warning") == 0 ? PLAN_SEVERITY_WARNING
                                                            : PLAN_SEVERITY_INFO;
        rule->applies_to = plan_rules_applies(plan_json_string(j, "applies_to"));
        rule->source = plan_arena_strdup(plan->arena, src);
        if (!rule->id || !rule->name.vi || !rule->name.en || !rule->source)
            return WP_ERR_NOMEM;
        if (strcmp(rule->id, PLAN_RULE_LOST_ID) == 0)
            return plan_rules_fail(&ctx, "id", "\"%s\" is reserved for wardpulse's own alert "
                                   "on reports lost in delivery", rule->id);
        if (strcmp(rule->id, PLAN_RULE_FLOOD_ID) == 0)
            return plan_rules_fail(&ctx, "id", "\"%s\" is reserved for wardpulse's own alert "
                                   "on refused messages over the daily bound", rule->id);
        for (size_t k = 0; k < ctx.index; k++)
            if (strcmp(out[k].id, rule->id) == 0)
                return plan_rules_fail(&ctx, "id", "\"%s\" is already the id of another rule",
                                       rule->id);
        /* level/<district>/<scope> carries one level per unit and week: a second level
         * rule would overwrite the first's retained messages. Criteria that change
         * (QĐ 4800, then 218) are versions of the one rule. */
        for (size_t k = 0; rule->kind == PLAN_RULE_LEVEL && k < ctx.index; k++)
            if (out[k].kind == PLAN_RULE_LEVEL)
                return plan_rules_fail(&ctx, "kind", "a plan has at most one level rule, and "
                                       "\"%s\" is one already (criteria that change over time "
                                       "are versions of that rule)", out[k].id);
        enum wp_err rc = WP_OK;
        switch (rule->kind) {
        case PLAN_RULE_COVERAGE: rc = plan_rules_coverage(&ctx, rule, j); break;
        case PLAN_RULE_SCHEDULE: rc = plan_rules_schedule(&ctx, rule, j); break;
        case PLAN_RULE_TASK: rc = plan_rules_task(&ctx, rule, j); break;
        case PLAN_RULE_CHECK: rc = plan_rules_check(&ctx, rule, j); break;
        case PLAN_RULE_LEVEL: rc = plan_rules_level(&ctx, rule, j); break;
        case PLAN_RULE_RATIO: rc = plan_rules_ratio(&ctx, rule, j); break;
        case PLAN_RULE_ANNOUNCE: rc = plan_rules_announce(&ctx, rule, j); break;
        case PLAN_RULE_LOST:
        case PLAN_RULE_FLOOD: break; /* never read from plan.json (plan_rules_kind) */
        }
        if (rc != WP_OK)
            return rc;
        ctx.index++;
    }
    plan->rules = out;
    plan->rule_count = n;
    return WP_OK;
}
