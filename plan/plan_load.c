/* plan_load.c — reading plan_dir: files, schemas, units, catalog, lookups (contract in
 * plan.h; the rules are in plan_rules.c). */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "file.h"
#include "hash_index.h"
#include "plan_private.h"
#include "schema_registry.h"
#include "timefmt.h"

/* Plan files are edited by hand; anything larger is a mistake, not a plan. */
#define PLAN_FILE_MAX_BYTES (16 * 1024 * 1024)
#define PLAN_ARENA_CHUNK 16384

struct plan_arena_chunk {
    struct plan_arena_chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct plan_arena {
    struct plan_arena_chunk *head;
};

void *plan_arena_alloc(struct plan_arena *arena, size_t size)
{
    size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    struct plan_arena_chunk *c = arena->head;
    if (!c || c->size - c->used < size) {
        size_t bytes = size > PLAN_ARENA_CHUNK ? size : PLAN_ARENA_CHUNK;
        c = malloc(sizeof *c + bytes);
        if (!c)
            return NULL;
        c->size = bytes;
        c->used = 0;
        c->next = arena->head;
        arena->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

const char *plan_arena_strdup(struct plan_arena *arena, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = plan_arena_alloc(arena, n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

const char *plan_json_string(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

double plan_json_number(const cJSON *obj, const char *name, double fallback)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

int64_t plan_json_day(const cJSON *obj, const char *name)
{
    int64_t day;
    const char *s = plan_json_string(obj, name);
    return s && wp_date_parse(s, &day) ? day : PLAN_DAY_NONE;
}

/* Reads dir/name, parses and validates it against schema; *doc is the caller's. */
static enum wp_err plan_read_document(const char *dir, const char *name, const char *schema,
                                      cJSON **doc, char *err, size_t errlen)
{
    char path[4096];
    char *text = NULL;
    enum wp_err rc = WP_ERR_IO;
    *doc = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    const char *cannot;
    FILE *f = wp_file_open(path, &cannot);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, cannot);
        return WP_ERR_IO;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || size > PLAN_FILE_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: %s", path,
                 size > PLAN_FILE_MAX_BYTES ? "larger than 16 MiB" : "cannot read");
        goto cleanup;
    }
    if (!(text = malloc((size_t)size + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = WP_ERR_NOMEM;
        goto cleanup;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto cleanup;
    }
    text[size] = '\0';
    rc = WP_ERR_CONFIG;
    const char *end = NULL;
    *doc = cJSON_ParseWithOpts(text, &end, true);
    if (!*doc) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        int line = 1;
        for (size_t i = 0; i < at; i++)
            line += text[i] == '\n';
        snprintf(err, errlen, "%s: not valid JSON (line %d, byte %zu)", path, line, at);
        goto cleanup;
    }
    char why[768];
    if (!wp_schemas_validate(schema, *doc, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", path, why);
        cJSON_Delete(*doc);
        *doc = NULL;
        goto cleanup;
    }
    rc = WP_OK;

cleanup:
    free(text);
    fclose(f);
    return rc;
}

static enum plan_unit_level plan_level_of(const char *s)
{
    return strcmp(s, "city") == 0 ? PLAN_UNIT_CITY
           : strcmp(s, "district") == 0 ? PLAN_UNIT_DISTRICT : PLAN_UNIT_WARD;
}

static enum wp_err plan_load_units(struct plan *plan, const cJSON *doc, const char *served,
                                   char *err, size_t errlen)
{
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(doc, "units");
    size_t n = (size_t)cJSON_GetArraySize(units), i = 0;
    struct plan_unit *out = plan_arena_alloc(plan->arena, n * sizeof *out);
    if (!out || !(plan->units_by_code = plan_arena_alloc(plan->arena,
                                                         sizeof *plan->units_by_code)))
        return WP_ERR_NOMEM;
    plan->units = out;   /* plan_unit finds the units indexed so far */
    const cJSON *u;
    cJSON_ArrayForEach(u, units) {
        struct plan_unit *unit = &out[i];
        const char *name_en = plan_json_string(u, "name_en");
        unit->code = plan_arena_strdup(plan->arena, plan_json_string(u, "code"));
        unit->index = i;
        unit->level = plan_level_of(plan_json_string(u, "level"));
        unit->name_vi = plan_arena_strdup(plan->arena, plan_json_string(u, "name_vi"));
        unit->name_en = name_en ? plan_arena_strdup(plan->arena, name_en) : unit->name_vi;
        const char *parent = plan_json_string(u, "parent");
        unit->parent = plan_arena_strdup(plan->arena, parent ? parent : "");
        const cJSON *pop = cJSON_GetObjectItemCaseSensitive(u, "population");
        size_t groups = pop ? (size_t)cJSON_GetArraySize(pop) : 0;
        struct plan_population *p = plan_arena_alloc(plan->arena, groups * sizeof *p);
        if (!unit->code || !unit->name_vi || !unit->name_en || !unit->parent || !p)
            return WP_ERR_NOMEM;
        size_t g = 0;
        const cJSON *entry;
        /* population_estimated: true (every group), or the list of estimated groups. */
        const cJSON *est = cJSON_GetObjectItemCaseSensitive(u, "population_estimated");
        cJSON_ArrayForEach(entry, pop) {
            if (!(p[g].group = plan_arena_strdup(plan->arena, entry->string)))
                return WP_ERR_NOMEM;
            p[g].estimated = cJSON_IsTrue(est);
            const cJSON *e;
            const cJSON *list = cJSON_IsArray(est) ? est : NULL;
            cJSON_ArrayForEach(e, list)
                if (cJSON_IsString(e) && strcmp(e->valuestring, entry->string) == 0)
                    p[g].estimated = true;
            p[g++].people = (int64_t)entry->valuedouble;
        }
        unit->population = p;
        unit->population_count = g;
        const struct plan_unit *same = plan_unit(plan, unit->code);
        if (same) {
            snprintf(err, errlen, "units[%zu].code: \"%s\" is already units[%zu]", i,
                     unit->code, same->index);
            return WP_ERR_CONFIG;
        }
        if (!wp_index_add(plan->units_by_code, wp_index_hash_str(unit->code), i))
            return WP_ERR_NOMEM;
        i++;
    }
    plan->unit_count = n;

    /* Parents, once every unit is known (the file need not list parents first). */
    for (i = 0; i < n; i++) {
        if (out[i].level == PLAN_UNIT_CITY)
            continue;
        const struct plan_unit *parent = plan_unit(plan, out[i].parent);
        if (!parent) {
            snprintf(err, errlen, "units[%zu].parent: unit \"%s\" is not in the file", i,
                     out[i].parent);
            return WP_ERR_CONFIG;
        }
        if ((int)parent->level != (int)out[i].level - 1) {
            snprintf(err, errlen, "units[%zu].parent: \"%s\" is not one level above a %s", i,
                     out[i].parent, out[i].level == PLAN_UNIT_WARD ? "ward" : "district");
            return WP_ERR_CONFIG;
        }
    }
    /* A city aggregator (two-digit code) serves a city, whose districts report to it;
     * a district aggregator serves a district, whose wards report to it. */
    bool city = strlen(served) == 2;
    enum plan_unit_level level = city ? PLAN_UNIT_CITY : PLAN_UNIT_DISTRICT;
    const char *what = city ? "city" : "district";
    plan->district = plan_unit(plan, served);
    plan->scope_name = what;
    if (!plan->district || plan->district->level != level) {
        snprintf(err, errlen, "units: %s \"%s\" (the aggregator's %s setting) is not in the "
                 "file", what, served, what);
        return WP_ERR_CONFIG;
    }
    const struct plan_unit **wards = plan_arena_alloc(plan->arena, n * sizeof *wards);
    if (!wards)
        return WP_ERR_NOMEM;
    for (i = 0; i < n; i++)
        if ((int)out[i].level == (int)level + 1 && strcmp(out[i].parent, served) == 0)
            wards[plan->ward_count++] = &out[i];
    plan->wards = wards;
    if (plan->ward_count == 0) {
        snprintf(err, errlen, "units: %s \"%s\" has no %s", what, served,
                 city ? "districts" : "wards");
        return WP_ERR_CONFIG;
    }
    return WP_OK;
}

static enum wp_err plan_load_catalog(struct plan *plan, const cJSON *doc, char *err,
                                     size_t errlen)
{
    static const char *const kinds[] = {"daily", "cumulative", "gauge"};
    static const char *const rollups[] = {"sum", "max", "latest"};
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "indicators");
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    struct plan_indicator *ind = plan_arena_alloc(plan->arena, n * sizeof *ind);
    if (!ind || !(plan->indicators_by_id = plan_arena_alloc(plan->arena,
                                                            sizeof *plan->indicators_by_id)))
        return WP_ERR_NOMEM;
    plan->indicators = ind;   /* plan_indicator finds the indicators indexed so far */
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        const char *kind = plan_json_string(item, "kind");
        const char *rollup = plan_json_string(item, "rollup");
        ind[i].id = plan_arena_strdup(plan->arena, plan_json_string(item, "id"));
        ind[i].name.vi = plan_arena_strdup(plan->arena, plan_json_string(name, "vi"));
        ind[i].name.en = plan_arena_strdup(plan->arena, plan_json_string(name, "en"));
        ind[i].unit = plan_arena_strdup(plan->arena, plan_json_string(item, "unit"));
        if (!ind[i].id || !ind[i].name.vi || !ind[i].name.en || !ind[i].unit)
            return WP_ERR_NOMEM;
        for (int k = 0; k < 3; k++) {
            if (strcmp(kind, kinds[k]) == 0)
                ind[i].kind = (enum plan_indicator_kind)k;
            if (strcmp(rollup, rollups[k]) == 0)
                ind[i].rollup = (enum plan_rollup)k;
        }
        const cJSON *bounds = cJSON_GetObjectItemCaseSensitive(item, "bounds");
        ind[i].has_min = cJSON_GetObjectItemCaseSensitive(bounds, "min") != NULL;
        ind[i].has_max = cJSON_GetObjectItemCaseSensitive(bounds, "max") != NULL;
        ind[i].min = (int64_t)plan_json_number(bounds, "min", 0);
        ind[i].max = (int64_t)plan_json_number(bounds, "max", 0);
        ind[i].rollup_up = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "rollup_up"));
        if (ind[i].has_min && ind[i].has_max && ind[i].min > ind[i].max) {
            snprintf(err, errlen, "indicators[%zu].bounds: min %lld is above max %lld", i,
                     (long long)ind[i].min, (long long)ind[i].max);
            return WP_ERR_CONFIG;
        }
        const struct plan_indicator *same = plan_indicator(plan, ind[i].id);
        if (same) {
            snprintf(err, errlen, "indicators[%zu].id: \"%s\" is already indicators[%zu]",
                     i, ind[i].id, (size_t)(same - ind));
            return WP_ERR_CONFIG;
        }
        if (!wp_index_add(plan->indicators_by_id, wp_index_hash_str(ind[i].id), i))
            return WP_ERR_NOMEM;
        i++;
    }
    plan->indicator_count = n;

    list = cJSON_GetObjectItemCaseSensitive(doc, "tasks");
    n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    struct plan_task *tasks = plan_arena_alloc(plan->arena, n * sizeof *tasks);
    if (!tasks)
        return WP_ERR_NOMEM;
    i = 0;
    cJSON_ArrayForEach(item, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        tasks[i].id = plan_arena_strdup(plan->arena, plan_json_string(item, "id"));
        tasks[i].name.vi = plan_arena_strdup(plan->arena, plan_json_string(name, "vi"));
        tasks[i].name.en = plan_arena_strdup(plan->arena, plan_json_string(name, "en"));
        if (!tasks[i].id || !tasks[i].name.vi || !tasks[i].name.en)
            return WP_ERR_NOMEM;
        for (size_t j = 0; j < i; j++)
            if (strcmp(tasks[j].id, tasks[i].id) == 0) {
                snprintf(err, errlen, "tasks[%zu].id: \"%s\" is already tasks[%zu]", i,
                         tasks[i].id, j);
                return WP_ERR_CONFIG;
            }
        i++;
    }
    plan->tasks = tasks;
    plan->task_count = n;
    return WP_OK;
}

/* "+07:00" → 420. The schema has checked the form. */
static int plan_offset_minutes(const char *s)
{
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    return (s[0] == '-' ? -1 : 1) * (h * 60 + m);
}

static enum wp_err plan_load_header(struct plan *plan, const cJSON *doc, char *err,
                                    size_t errlen)
{
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(doc, "title");
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(doc, "scope");
    plan->id = plan_arena_strdup(plan->arena, plan_json_string(doc, "id"));
    plan->title.vi = plan_arena_strdup(plan->arena, plan_json_string(title, "vi"));
    plan->title.en = plan_arena_strdup(plan->arena, plan_json_string(title, "en"));
    if (!plan->id || !plan->title.vi || !plan->title.en)
        return WP_ERR_NOMEM;
    plan->utc_offset_minutes = plan_offset_minutes(plan_json_string(doc, "utc_offset"));
    plan->valid_from_day = plan_json_day(doc, "valid_from");
    plan->silence_days = (int)plan_json_number(doc, "silence_days", PLAN_SILENCE_DAYS);
    plan->valid_to_day = plan_json_day(doc, "valid_to");
    if (plan->valid_from_day != PLAN_DAY_NONE && plan->valid_to_day != PLAN_DAY_NONE
        && plan->valid_to_day < plan->valid_from_day) {
        snprintf(err, errlen, "valid_to: before valid_from");
        return WP_ERR_CONFIG;
    }
    const char *city = plan_json_string(scope, "city");
    const char *district = plan_json_string(scope, "district");
    const struct plan_unit *served = plan->district;
    if (district && served->level == PLAN_UNIT_CITY) {
        snprintf(err, errlen, "scope.district: the plan is for district %s only, the "
                 "aggregator serves city %s", district, served->code);
        return WP_ERR_CONFIG;
    }
    if (district && strcmp(district, served->code) != 0) {
        snprintf(err, errlen, "scope.district: the plan is for district %s, the aggregator "
                 "serves district %s", district, served->code);
        return WP_ERR_CONFIG;
    }
    if (served->level == PLAN_UNIT_CITY && strcmp(city, served->code) != 0) {
        snprintf(err, errlen, "scope.city: the plan is for city %s, the aggregator serves city "
                 "%s", city, served->code);
        return WP_ERR_CONFIG;
    }
    if (served->level != PLAN_UNIT_CITY && strcmp(city, served->parent) != 0) {
        snprintf(err, errlen, "scope.city: the plan is for city %s, district %s belongs to "
                 "city %s", city, served->code, served->parent);
        return WP_ERR_CONFIG;
    }
    return WP_OK;
}

/* The unit a reader serves when it names none (plan.h): the plan's scope.district, else
 * the only district of orgunits.json, else the plan's scope.city. */
static const char *plan_choose_unit(const cJSON *units, const cJSON *plan)
{
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(plan, "scope");
    const char *district = plan_json_string(scope, "district");
    if (district)
        return district;
    const char *only = NULL;
    size_t districts = 0;
    const cJSON *u;
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(units, "units")) {
        const char *level = plan_json_string(u, "level");
        if (level && strcmp(level, "district") == 0 && districts++ == 0)
            only = plan_json_string(u, "code");
    }
    return districts == 1 && only ? only : plan_json_string(scope, "city");
}

enum wp_err plan_load(const char *dir, const char *unit, struct plan **out, char *err,
                      size_t errlen)
{
    static const struct { const char *file, *schema; } files[3] = {
        {"orgunits.json", "orgunits"}, {"catalog.json", "catalog"}, {"plan.json", "plan"}};
    cJSON *docs[3] = {NULL, NULL, NULL};
    char why[768] = "";
    enum wp_err rc = WP_ERR_NOMEM;
    int failed_file = -1;
    struct plan *plan = calloc(1, sizeof *plan);
    *out = NULL;
    if (!plan || !(plan->arena = calloc(1, sizeof *plan->arena))) {
        snprintf(err, errlen, "out of memory loading the plan");
        goto cleanup;
    }
    for (int i = 0; i < 3; i++)
        if ((rc = plan_read_document(dir, files[i].file, files[i].schema, &docs[i], err,
                                     errlen)) != WP_OK)
            goto cleanup;
    if (!(plan->dir = plan_arena_strdup(plan->arena, dir)))
        goto nomem;
    if (!unit)
        unit = plan_choose_unit(docs[0], docs[2]);
    if ((rc = plan_load_units(plan, docs[0], unit, why, sizeof why)) != WP_OK) {
        failed_file = 0;
        goto failed;
    }
    if ((rc = plan_load_catalog(plan, docs[1], why, sizeof why)) != WP_OK) {
        failed_file = 1;
        goto failed;
    }
    failed_file = 2;
    if ((rc = plan_load_header(plan, docs[2], why, sizeof why)) != WP_OK
        || (rc = plan_rules_load(plan, cJSON_GetObjectItemCaseSensitive(docs[2], "rules"), why,
                                 sizeof why)) != WP_OK)
        goto failed;
    *out = plan;
    plan = NULL;
    rc = WP_OK;
    goto cleanup;

nomem:
    rc = WP_ERR_NOMEM;
failed:
    if (rc == WP_ERR_NOMEM)
        snprintf(err, errlen, "out of memory loading the plan");
    else
        snprintf(err, errlen, "%s/%s: %s", dir, files[failed_file].file, why);
cleanup:
    for (int i = 0; i < 3; i++)
        cJSON_Delete(docs[i]);
    plan_free(&plan);
    return rc;
}

void plan_free(struct plan **plan)
{
    if (!plan || !*plan)
        return;
    /* The tables' structs are in the arena, their slots are not. */
    if ((*plan)->units_by_code)
        wp_index_free((*plan)->units_by_code);
    if ((*plan)->indicators_by_id)
        wp_index_free((*plan)->indicators_by_id);
    if ((*plan)->arena) {
        struct plan_arena_chunk *c = (*plan)->arena->head;
        while (c) {
            struct plan_arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        free((*plan)->arena);
    }
    free(*plan);
    *plan = NULL;
}

static bool plan_indicator_has_id(const void *ctx, size_t pos, const void *id)
{
    return strcmp(((const struct plan *)ctx)->indicators[pos].id, id) == 0;
}

const struct plan_indicator *plan_indicator(const struct plan *plan, const char *id)
{
    if (!plan->indicators_by_id)
        return NULL;
    size_t i = wp_index_find(plan->indicators_by_id, wp_index_hash_str(id),
                             plan_indicator_has_id, plan, id);
    return i == WP_INDEX_NONE ? NULL : &plan->indicators[i];
}

const struct plan_task *plan_task(const struct plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->task_count; i++)
        if (strcmp(plan->tasks[i].id, id) == 0)
            return &plan->tasks[i];
    return NULL;
}

static bool plan_unit_has_code(const void *ctx, size_t pos, const void *code)
{
    return strcmp(((const struct plan *)ctx)->units[pos].code, code) == 0;
}

const struct plan_unit *plan_unit(const struct plan *plan, const char *code)
{
    if (!plan->units_by_code)
        return NULL;
    size_t i = wp_index_find(plan->units_by_code, wp_index_hash_str(code), plan_unit_has_code,
                             plan, code);
    return i == WP_INDEX_NONE ? NULL : &plan->units[i];
}

const struct plan_rule *plan_rule(const struct plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->rule_count; i++)
        if (strcmp(plan->rules[i].id, id) == 0)
            return &plan->rules[i];
    return NULL;
}

static bool plan_own_population(const struct plan_unit *unit, const char *group,
                                int64_t *people)
{
    for (size_t i = 0; i < unit->population_count; i++)
        if (strcmp(unit->population[i].group, group) == 0) {
            *people = unit->population[i].people;
            return true;
        }
    return false;
}

bool plan_population_estimated(const struct plan *plan, const struct plan_unit *unit,
                               const char *group)
{
    for (size_t i = 0; i < unit->population_count; i++)
        if (strcmp(unit->population[i].group, group) == 0)
            return unit->population[i].estimated;
    if (unit->level == PLAN_UNIT_WARD)
        return false;
    for (size_t i = 0; i < plan->unit_count; i++) {
        const struct plan_unit *c = &plan->units[i];
        if ((int)c->level == (int)unit->level + 1 && strcmp(c->parent, unit->code) == 0
            && plan_population_estimated(plan, c, group))
            return true;
    }
    return false;
}

bool plan_population(const struct plan *plan, const struct plan_unit *unit, const char *group,
                     int64_t *people)
{
    if (plan_own_population(unit, group, people))
        return true;
    if (unit->level == PLAN_UNIT_WARD)
        return false;
    /* A district or city without its own figure: the sum of its children's (a district's
     * own figure, or the sum of its wards). At most three levels deep. */
    int64_t sum = 0;
    size_t children = 0;
    for (size_t i = 0; i < plan->unit_count; i++) {
        const struct plan_unit *c = &plan->units[i];
        if ((int)c->level != (int)unit->level + 1 || strcmp(c->parent, unit->code) != 0)
            continue;
        int64_t n;
        if (!plan_population(plan, c, group, &n))
            return false;
        sum += n;
        children++;
    }
    if (children == 0)
        return false;
    *people = sum;
    return true;
}

unsigned plan_applies_bit(const struct plan_unit *unit)
{
    return unit->level == PLAN_UNIT_CITY       ? PLAN_APPLIES_CITY
           : unit->level == PLAN_UNIT_DISTRICT ? PLAN_APPLIES_DISTRICT
                                               : PLAN_APPLIES_WARD;
}

bool plan_check_report(const struct plan *plan, const struct wp_report *report, char *reason,
                       size_t reasonlen)
{
    const struct plan_unit *unit = plan_unit(plan, report->ward);
    const struct plan_unit *served = plan->district;
    if (!unit || !(unit == served
                   || ((int)unit->level == (int)served->level + 1
                       && strcmp(unit->parent, served->code) == 0))) {
        if (served->level == PLAN_UNIT_CITY)
            snprintf(reason, reasonlen, "ward: %s is neither a district of city %s nor the "
                     "city in the plan's orgunits.json", report->ward, served->code);
        else
            snprintf(reason, reasonlen, "ward: %s is not a ward of district %s in the plan's "
                     "orgunits.json", report->ward, served->code);
        return false;
    }
    /* A period the plan does not cover would pin a task's state or a value for ever,
     * and no rule would read it. */
    int64_t first = 0;
    int days = 1;
    if (wp_period_parse(report->period, &first, &days)
        && ((plan->valid_from_day != PLAN_DAY_NONE && first + days - 1 < plan->valid_from_day)
            || (plan->valid_to_day != PLAN_DAY_NONE && first > plan->valid_to_day))) {
        char from[16] = "…", to[16] = "…";
        if (plan->valid_from_day != PLAN_DAY_NONE)
            wp_date_format(plan->valid_from_day, from, sizeof from);
        if (plan->valid_to_day != PLAN_DAY_NONE)
            wp_date_format(plan->valid_to_day, to, sizeof to);
        snprintf(reason, reasonlen, "period: %s is outside the plan's validity (%s to %s)",
                 report->period, from, to);
        return false;
    }
    for (size_t i = 0; i < report->value_count; i++) {
        const struct wp_report_value *v = &report->values[i];
        const struct plan_indicator *ind = plan_indicator(plan, v->indicator);
        if (!ind) {
            snprintf(reason, reasonlen, "values.%s: indicator \"%s\" is not in the plan's "
                     "catalog", v->indicator, v->indicator);
            return false;
        }
        /* Bounds are plausible figures of one reporting unit; the served unit's own
         * figures (a district's, rolled up from its wards) are their sums. */
        bool outside = (ind->has_min && v->value < ind->min)
                       || (ind->has_max && v->value > ind->max);
        if (unit != served && outside) {
            snprintf(reason, reasonlen, "values.%s: %lld is outside the plausible range "
                     "%lld .. %lld of the catalog", v->indicator, (long long)v->value,
                     (long long)(ind->has_min ? ind->min : 0),
                     (long long)(ind->has_max ? ind->max : INT64_MAX));
            return false;
        }
    }
    for (size_t i = 0; i < report->task_count; i++)
        if (!plan_task(plan, report->tasks[i].task)) {
            snprintf(reason, reasonlen, "tasks.%s: task \"%s\" is not in the plan's catalog",
                     report->tasks[i].task, report->tasks[i].task);
            return false;
        }
    return true;
}

const char *plan_severity_name(enum plan_severity severity)
{
    static const char *const names[] = {"info", "warning", "critical"};
    return names[severity];
}

const char *plan_rule_kind_name(enum plan_rule_kind kind)
{
    static const char *const names[] = {"coverage", "schedule", "task", "check", "level",
                                        "reports-lost", "ratio", "announce"};
    return names[kind];
}
