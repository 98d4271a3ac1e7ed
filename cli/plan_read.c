/* plan_read.c — the plan's names, populations and targets for the reading commands
 * (plan_read.h). */
#include "plan_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "file.h"
#include "schema_registry.h"
#include "timefmt.h"
#include "utf8.h"

/* A plan is kilobytes; a cap keeps a wrong path (/dev/zero) from eating memory. */
#define PLAN_READ_MAX_BYTES (16u << 20)

static const char *const plan_read_files[3] = {"orgunits.json", "catalog.json", "plan.json"};
static const char *const plan_read_schemas[3] = {"orgunits", "catalog", "plan"};

/* Reads, checks and parses dir/name against schema. NULL with err filled on failure. */
static cJSON *plan_read_doc(const char *dir, const char *name, const char *schema, char *err,
                            size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    const char *cannot;
    FILE *f = wp_file_open(path, &cannot);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, cannot);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - len - 1, f);
        if (ferror(f) || feof(f) || len >= PLAN_READ_MAX_BYTES)
            break;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger)
                free(text);
            text = bigger;
            cap *= 2;
        }
    }
    bool failed = !text || ferror(f), too_big = text && !feof(f) && !failed;
    fclose(f);
    if (failed || too_big) {
        snprintf(err, errlen, "%s: %s", path, too_big ? "too large for a plan file"
                                                       : "cannot read it");
        free(text);
        return NULL;
    }
    text[len] = '\0';
    size_t bad = wp_utf8_invalid_at(text, len);
    if (bad < len || strlen(text) != len) {
        snprintf(err, errlen, "%s: not UTF-8 text (byte %zu)", path,
                 bad < len ? bad : strlen(text));
        free(text);
        return NULL;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);   /* NUL included */
    if (!doc) {
        snprintf(err, errlen, "%s: not valid JSON (parsing stopped at byte %td)", path,
                 end ? end - text : (ptrdiff_t)0);
        free(text);
        return NULL;
    }
    free(text);
    char why[512];
    if (!wp_schemas_validate(schema, doc, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", path, why);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static const char *plan_read_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* {"vi": …, "en": …} */
static void plan_read_text(const cJSON *obj, const char *key, const char **vi, const char **en)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, key);
    *vi = plan_read_str(t, "vi");
    *en = plan_read_str(t, "en");
    if (!*vi)
        *vi = *en ? *en : "";
    if (!*en)
        *en = *vi;
}

static bool plan_read_units(struct cli_plan *p, const cJSON *doc)
{
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(doc, "units");
    p->units = calloc((size_t)cJSON_GetArraySize(units) + 1, sizeof *p->units);
    if (!p->units)
        return false;
    const cJSON *u;
    cJSON_ArrayForEach(u, units) {
        struct cli_unit *unit = &p->units[p->unit_count++];
        const char *level = plan_read_str(u, "level");
        unit->level = strcmp(level, "city") == 0       ? CLI_UNIT_CITY
                      : strcmp(level, "district") == 0 ? CLI_UNIT_DISTRICT
                                                       : CLI_UNIT_WARD;
        unit->code = plan_read_str(u, "code");
        unit->name_vi = plan_read_str(u, "name_vi");
        unit->name_en = plan_read_str(u, "name_en");
        if (!unit->name_en)
            unit->name_en = unit->name_vi;
        unit->parent = plan_read_str(u, "parent");
        if (!unit->parent)
            unit->parent = "";
        unit->population = cJSON_GetObjectItemCaseSensitive(u, "population");
    }
    return true;
}

static bool plan_read_catalog(struct cli_plan *p, const cJSON *doc)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "indicators");
    p->indicators = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *p->indicators);
    if (!p->indicators)
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        struct cli_indicator *ind = &p->indicators[p->indicator_count++];
        ind->id = plan_read_str(it, "id");
        plan_read_text(it, "name", &ind->name_vi, &ind->name_en);
        ind->kind = plan_read_str(it, "kind");
        ind->rollup = plan_read_str(it, "rollup");
        ind->unit = plan_read_str(it, "unit");
        if (!ind->kind)
            ind->kind = "daily";
        if (!ind->rollup)
            ind->rollup = "sum";
        if (!ind->unit)
            ind->unit = "";
    }
    return true;
}

static enum cli_rule_kind plan_read_kind(const char *kind)
{
    static const char *const names[] = {"coverage", "schedule", "task", "check", "level"};
    for (int i = 0; i < 5; i++)
        if (kind && strcmp(kind, names[i]) == 0)
            return (enum cli_rule_kind)i;
    return CLI_RULE_OTHER;
}

static bool plan_read_rules(struct cli_plan *p, const cJSON *doc)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "rules");
    p->rules = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *p->rules);
    if (!p->rules)
        return false;
    const cJSON *r;
    cJSON_ArrayForEach(r, list) {
        struct cli_rule *rule = &p->rules[p->rule_count++];
        rule->id = plan_read_str(r, "id");
        rule->kind = plan_read_kind(plan_read_str(r, "kind"));
        plan_read_text(r, "name", &rule->name_vi, &rule->name_en);
        rule->severity = plan_read_str(r, "severity");
        rule->numerator = plan_read_str(r, "numerator");
        rule->population = plan_read_str(r, "population");
        rule->denominator = plan_read_str(r, "denominator");
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(r, "target");
        rule->target = cJSON_IsNumber(target) ? target->valuedouble : 1.0;
        const char *deadline = plan_read_str(r, "deadline");
        if (!deadline || !wp_date_parse(deadline, &rule->deadline_day))
            rule->deadline_day = CLI_DAY_NONE;
        const cJSON *inds = cJSON_GetObjectItemCaseSensitive(r, "indicators");
        if (rule->kind == CLI_RULE_SCHEDULE && cJSON_IsArray(inds)) {
            rule->indicators = calloc((size_t)cJSON_GetArraySize(inds) + 1,
                                      sizeof *rule->indicators);
            if (!rule->indicators)
                return false;
            const cJSON *i;
            cJSON_ArrayForEach(i, inds)
                if (cJSON_IsString(i))
                    rule->indicators[rule->indicator_count++] = i->valuestring;
        }
    }
    return true;
}

int cli_plan_load(const char *dir, struct cli_plan **out, char *err, size_t errlen)
{
    *out = NULL;
    struct cli_plan *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    p->dir = dir;
    for (int i = 0; i < 3; i++) {
        p->docs[i] = plan_read_doc(dir, plan_read_files[i], plan_read_schemas[i], err, errlen);
        if (!p->docs[i]) {
            cli_plan_free(&p);
            return 1;
        }
    }
    const cJSON *plan = p->docs[2];
    plan_read_text(plan, "title", &p->title_vi, &p->title_en);
    p->district = plan_read_str(cJSON_GetObjectItemCaseSensitive(plan, "scope"), "district");
    const char *offset = plan_read_str(plan, "utc_offset");
    p->utc_offset_minutes = WP_LOCAL_OFFSET_MIN;
    if (offset && strlen(offset) == 6) {
        int h = (offset[1] - '0') * 10 + (offset[2] - '0');
        int m = (offset[4] - '0') * 10 + (offset[5] - '0');
        p->utc_offset_minutes = (offset[0] == '-' ? -1 : 1) * (h * 60 + m);
    }
    if (!plan_read_units(p, p->docs[0]) || !plan_read_catalog(p, p->docs[1])
        || !plan_read_rules(p, plan)) {
        snprintf(err, errlen, "out of memory");
        cli_plan_free(&p);
        return 1;
    }
    *out = p;
    return 0;
}

void cli_plan_free(struct cli_plan **plan)
{
    if (!plan || !*plan)
        return;
    struct cli_plan *p = *plan;
    for (size_t i = 0; i < p->rule_count; i++)
        free(p->rules[i].indicators);
    free(p->rules);
    free(p->indicators);
    free(p->units);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(p->docs[i]);
    free(p);
    *plan = NULL;
}

const struct cli_unit *cli_plan_unit(const struct cli_plan *plan, const char *code)
{
    for (size_t i = 0; plan && code && i < plan->unit_count; i++)
        if (strcmp(plan->units[i].code, code) == 0)
            return &plan->units[i];
    return NULL;
}

const struct cli_indicator *cli_plan_indicator(const struct cli_plan *plan, const char *id)
{
    for (size_t i = 0; plan && id && i < plan->indicator_count; i++)
        if (strcmp(plan->indicators[i].id, id) == 0)
            return &plan->indicators[i];
    return NULL;
}

const struct cli_unit *cli_plan_district(const struct cli_plan *plan, const char *code,
                                         char *err, size_t errlen)
{
    const char *want = code ? code : plan->district;
    const struct cli_unit *only = NULL;
    size_t districts = 0;
    for (size_t i = 0; i < plan->unit_count; i++) {
        const struct cli_unit *u = &plan->units[i];
        if (u->level != CLI_UNIT_DISTRICT)
            continue;
        districts++;
        only = u;
        if (want && strcmp(u->code, want) == 0)
            return u;
    }
    if (!want && districts == 1)
        return only;
    if (want)
        snprintf(err, errlen, "%s/orgunits.json has no district %s", plan->dir, want);
    else
        snprintf(err, errlen, "%s covers %zu districts: choose one with --district", plan->dir,
                 districts);
    return NULL;
}

size_t cli_plan_wards(const struct cli_plan *plan, const struct cli_unit *district,
                      const struct cli_unit **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->unit_count; i++) {
        const struct cli_unit *u = &plan->units[i];
        if (u->level == CLI_UNIT_WARD && strcmp(u->parent, district->code) == 0) {
            if (n < max)
                out[n] = u;
            n++;
        }
    }
    return n < max ? n : max;
}

bool cli_plan_population(const struct cli_plan *plan, const struct cli_unit *unit,
                         const char *group, int64_t *people)
{
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(unit->population, group);
    if (cJSON_IsNumber(own)) {
        *people = (int64_t)own->valuedouble;
        return true;
    }
    if (unit->level == CLI_UNIT_WARD)
        return false;
    int64_t sum = 0;
    size_t children = 0;
    for (size_t i = 0; i < plan->unit_count; i++) {
        const struct cli_unit *u = &plan->units[i];
        if (strcmp(u->parent, unit->code) != 0)
            continue;
        int64_t n;
        if (!cli_plan_population(plan, u, group, &n))
            return false;
        sum += n;
        children++;
    }
    *people = sum;
    return children > 0;
}
