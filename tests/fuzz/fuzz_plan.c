/* fuzz_plan.c — the aggregator's real plan loader (plan/plan_load.c, plan_rules.c) on
 * arbitrary bytes. The input becomes one of the three plan files in a temporary directory
 * (fuzz_tmp_base: $TMPDIR, /dev/shm) that holds the other two as plans/ba-dinh-2022 has them,
 * and plan_load() reads that directory for district 001, as the aggregator does at start
 * and on SIGHUP. Which file: the one whose top-level key the input names ("units" →
 * orgunits.json, "indicators" → catalog.json, "rules" → plan.json), else by its length,
 * so every seed lands where it belongs and a mutation can move it. The same bytes are
 * also judged by the three schemas alone (what `wardpulse validate` does).
 *
 * Contract (plan.h, jsonschema.h):
 *   - a refused plan: no plan, WP_ERR_CONFIG, and a message naming the directory, a file
 *     and where in it — the fuzzed file or one loaded after it that depends on it (the
 *     other two are good), never one loaded before it;
 *   - a loaded plan serves district 001 with at least one ward, and everything its rules
 *     name resolves: indicators and tasks in the catalog, population groups for the units
 *     a rule applies to, assignee codes among the district and its wards; the lookups
 *     and plan_check_report work on it;
 *   - a schema gives any document a verdict, and an invalid one a reason.
 *
 * The good files come from $FUZZ_PLAN_DIR, else from plans/ba-dinh-2022 of the source tree
 * the harness was built from (FUZZ_SOURCE_DIR, set by run.sh).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "plan.h"
#include "report.h"
#include "schema_registry.h"

#ifndef FUZZ_SOURCE_DIR
#define FUZZ_SOURCE_DIR "."
#endif
#define FUZZ_DISTRICT "001"

static const char *const fuzz_files[3] = {"orgunits.json", "catalog.json", "plan.json"};
static const char *const fuzz_schemas[3] = {"orgunits", "catalog", "plan"};
static const char *const fuzz_keys[3] = {"\"units\"", "\"indicators\"", "\"rules\""};

static char fuzz_root[256];
static char fuzz_dirs[3][320]; /* fuzz_dirs[i]: file i is the input, the others are good */

static void fuzz_path(char *out, size_t size, int dir, int file)
{
    snprintf(out, size, "%s/%s", fuzz_dirs[dir], fuzz_files[file]);
}

static void fuzz_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size, "cannot write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "cannot write %s", path);
}

/* The whole file at path (malloc'd, *size bytes); the harness cannot run without it. */
static char *fuzz_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot read the good plan file %s (set FUZZ_PLAN_DIR)", path);
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    FUZZ_CHECK(text != NULL, "out of memory");
    for (size_t got; (got = fread(text + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            text = realloc(text, cap *= 2);
            FUZZ_CHECK(text != NULL, "out of memory");
        }
    }
    FUZZ_CHECK(!ferror(f), "cannot read %s", path);
    fclose(f);
    *size = n;
    return text;
}

static void fuzz_cleanup(void)
{
    for (int d = 0; d < 3; d++) {
        for (int f = 0; f < 3; f++) {
            char path[400];
            fuzz_path(path, sizeof path, d, f);
            unlink(path);
        }
        rmdir(fuzz_dirs[d]);
    }
    rmdir(fuzz_root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    char good[512];
    const char *env = getenv("FUZZ_PLAN_DIR");
    if (env && env[0])
        snprintf(good, sizeof good, "%s", env);
    else
        snprintf(good, sizeof good, "%s/plans/ba-dinh-2022", FUZZ_SOURCE_DIR);

    const char *base = fuzz_tmp_base();
    snprintf(fuzz_root, sizeof fuzz_root, "%s/wardpulse-fuzz-plan-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(fuzz_root) != NULL, "mkdtemp %s", fuzz_root);
    atexit(fuzz_cleanup);
    for (int d = 0; d < 3; d++) {
        snprintf(fuzz_dirs[d], sizeof fuzz_dirs[d], "%s/%s", fuzz_root, fuzz_schemas[d]);
        FUZZ_CHECK(mkdir(fuzz_dirs[d], 0700) == 0, "mkdir %s", fuzz_dirs[d]);
    }
    for (int f = 0; f < 3; f++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", good, fuzz_files[f]);
        size_t n = 0;
        char *text = fuzz_read(path, &n);
        for (int d = 0; d < 3; d++) {
            char out[400];
            fuzz_path(out, sizeof out, d, f);
            fuzz_write(out, text, n);
        }
        free(text);
    }
    /* The good files must make a good plan, or every finding would be noise. */
    struct plan *plan = NULL;
    char err[1024];
    FUZZ_CHECK(plan_load(fuzz_dirs[0], FUZZ_DISTRICT, &plan, err, sizeof err) == WP_OK,
               "the good plan %s does not load: %s", good, err);
    plan_free(&plan);
    return 0;
}

static bool fuzz_has(const uint8_t *data, size_t size, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k <= size; i++)
        if (memcmp(data + i, key, k) == 0)
            return true;
    return false;
}

/* Which file the input becomes. */
static int fuzz_slot(const uint8_t *data, size_t size)
{
    for (int f = 2; f >= 0; f--)
        if (fuzz_has(data, size, fuzz_keys[f]))
            return f;
    return (int)(size % 3);
}

static void fuzz_check_group(const struct plan *plan, unsigned applies, const char *group,
                             const char *rule)
{
    int64_t people;
    if (applies & PLAN_APPLIES_WARD)
        for (size_t w = 0; w < plan->ward_count; w++)
            FUZZ_CHECK(plan_population(plan, plan->wards[w], group, &people),
                       "rule %s: group %s unknown for ward %s", rule, group,
                       plan->wards[w]->code);
    if (applies & PLAN_APPLIES_DISTRICT)
        FUZZ_CHECK(plan_population(plan, plan->district, group, &people),
                   "rule %s: group %s unknown for the district", rule, group);
}

static void fuzz_check_indicator(const struct plan *plan, const char *id, const char *rule)
{
    FUZZ_CHECK(id != NULL && plan_indicator(plan, id) != NULL,
               "rule %s names indicator %s, not in the catalog", rule, id ? id : "(null)");
}

static void fuzz_check_plan(const struct plan *plan)
{
    FUZZ_CHECK(plan->district && strcmp(plan->district->code, FUZZ_DISTRICT) == 0
                   && plan->district->level == PLAN_UNIT_DISTRICT,
               "the plan serves another district");
    FUZZ_CHECK(plan->ward_count >= 1, "a plan without wards");
    for (size_t w = 0; w < plan->ward_count; w++)
        FUZZ_CHECK(plan->wards[w]->level == PLAN_UNIT_WARD
                       && strcmp(plan->wards[w]->parent, FUZZ_DISTRICT) == 0
                       && plan_unit(plan, plan->wards[w]->code) == plan->wards[w],
                   "ward %zu is not a ward of the district", w);
    for (size_t i = 0; i < plan->unit_count; i++) {
        int64_t people;
        (void)plan_population(plan, &plan->units[i], "total", &people);
    }
    for (size_t r = 0; r < plan->rule_count; r++) {
        const struct plan_rule *rule = &plan->rules[r];
        FUZZ_CHECK(plan_rule(plan, rule->id) == rule, "rule id %s not unique", rule->id);
        FUZZ_CHECK(rule->applies_to != 0 && plan_rule_kind_name(rule->kind)
                       && plan_severity_name(rule->severity) && rule->source,
                   "rule %s incomplete", rule->id);
        switch (rule->kind) {
        case PLAN_RULE_COVERAGE: {
            const struct plan_coverage *c = &rule->u.coverage;
            fuzz_check_indicator(plan, c->numerator, rule->id);
            FUZZ_CHECK((c->population != NULL) != (c->denominator != NULL),
                       "rule %s: population and denominator", rule->id);
            if (c->population)
                fuzz_check_group(plan, rule->applies_to, c->population, rule->id);
            else
                fuzz_check_indicator(plan, c->denominator, rule->id);
            FUZZ_CHECK(c->target > 0 && c->target <= 1, "rule %s: target %g", rule->id,
                       c->target);
            break;
        }
        case PLAN_RULE_SCHEDULE:
            FUZZ_CHECK(rule->u.schedule.cutoff_minute >= 0
                           && rule->u.schedule.cutoff_minute < 24 * 60,
                       "rule %s: cutoff minute %d", rule->id, rule->u.schedule.cutoff_minute);
            for (size_t i = 0; i < rule->u.schedule.indicator_count; i++)
                fuzz_check_indicator(plan, rule->u.schedule.indicators[i], rule->id);
            break;
        case PLAN_RULE_TASK:
            FUZZ_CHECK(plan_task(plan, rule->u.task.task) != NULL, "rule %s: task %s",
                       rule->id, rule->u.task.task);
            for (size_t i = 0; i < rule->u.task.assignee_count; i++) {
                FUZZ_CHECK(rule->u.task.assignees[i] != NULL, "rule %s: assignee", rule->id);
                FUZZ_CHECK(rule->u.task.roles[i] <= PLAN_ROLE_SUPPORT, "rule %s: role",
                           rule->id);
            }
            break;
        case PLAN_RULE_RATIO: {
            const struct plan_ratio *r = &rule->u.ratio;
            fuzz_check_indicator(plan, r->numerator, rule->id);
            fuzz_check_indicator(plan, r->denominator, rule->id);
            FUZZ_CHECK(r->target > 0 && r->target <= 1, "rule %s: target %g", rule->id,
                       r->target);
            FUZZ_CHECK(r->counted.vi && r->counted.en, "rule %s: counted", rule->id);
            break;
        }
        case PLAN_RULE_ANNOUNCE: {
            const struct plan_announce *a = &rule->u.announce;
            fuzz_check_indicator(plan, a->indicator, rule->id);
            const struct plan_indicator *ind = plan_indicator(plan, a->indicator);
            FUZZ_CHECK(ind && ind->kind == PLAN_INDICATOR_DAILY, "rule %s: not daily",
                       rule->id);
            FUZZ_CHECK(a->counted.vi && a->counted.en, "rule %s: counted", rule->id);
            break;
        }
        case PLAN_RULE_CHECK: {
            const struct plan_check *c = &rule->u.check;
            fuzz_check_indicator(plan, c->left, rule->id);
            if (!c->never_decreases) {
                FUZZ_CHECK((c->right_indicator != NULL) != (c->right_population != NULL),
                           "rule %s: right side", rule->id);
                if (c->right_indicator)
                    fuzz_check_indicator(plan, c->right_indicator, rule->id);
                else
                    fuzz_check_group(plan, rule->applies_to, c->right_population, rule->id);
            }
            break;
        }
        case PLAN_RULE_LEVEL:
            for (size_t v = 0; v < rule->u.level.version_count; v++) {
                const struct plan_level_version *ver = &rule->u.level.versions[v];
                for (size_t c = 0; c < ver->criterion_count; c++) {
                    fuzz_check_indicator(plan, ver->criteria[c].indicator, rule->id);
                    fuzz_check_group(plan, rule->applies_to, ver->criteria[c].population,
                                     rule->id);
                    FUZZ_CHECK(ver->criteria[c].thresholds[0] < ver->criteria[c].thresholds[1]
                                   && ver->criteria[c].thresholds[1]
                                          < ver->criteria[c].thresholds[2],
                               "rule %s: thresholds do not increase", rule->id);
                }
                for (size_t c = 0; c < ver->condition_count; c++)
                    for (size_t k = 0; k < ver->conditions[c].ratio_count; k++) {
                        const struct plan_level_ratio *ratio = &ver->conditions[c].ratios[k];
                        fuzz_check_indicator(plan, ratio->indicator, rule->id);
                        fuzz_check_group(plan, rule->applies_to, ratio->population, rule->id);
                    }
            }
            break;
        case PLAN_RULE_LOST:
        case PLAN_RULE_FLOOD:
            FUZZ_CHECK(0, "rule %s: the built-in kind came from plan.json", rule->id);
            break;
        }
    }

    /* A report as ingest checks it against the plan: any verdict, a reason when refused. */
    struct wp_report report;
    memset(&report, 0, sizeof report);
    snprintf(report.ward, sizeof report.ward, "%s", plan->wards[0]->code);
    struct wp_report_value values[2] = {{(char *)"cases_new_community", 3},
                                        {(char *)plan->indicators[0].id, INT64_MAX}};
    report.values = values;
    report.value_count = plan->indicator_count ? 2 : 1;
    char reason[512];
    memset(reason, 0x5a, sizeof reason);
    if (!plan_check_report(plan, &report, reason, sizeof reason))
        FUZZ_CHECK(fuzz_terminated(reason, sizeof reason) && reason[0] != '\0',
                   "a report refused by the plan without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int slot = fuzz_slot(data, size);
    char path[400];
    fuzz_path(path, sizeof path, slot, slot);
    fuzz_write(path, data, size);

    struct plan *plan = (struct plan *)1;
    char err[1024];
    memset(err, 0x5a, sizeof err);
    enum wp_err rc = plan_load(fuzz_dirs[slot], FUZZ_DISTRICT, &plan, err, sizeof err);
    if (rc == WP_OK) {
        FUZZ_CHECK(plan != NULL, "plan_load succeeded without a plan");
        fuzz_check_plan(plan);
        plan_free(&plan);
        FUZZ_CHECK(plan == NULL, "plan_free left the pointer");
    } else {
        FUZZ_CHECK(plan == NULL, "a refused plan was handed out");
        FUZZ_CHECK(rc == WP_ERR_CONFIG || rc == WP_ERR_NOMEM, "%s: result %s", fuzz_files[slot],
                   wp_strerror(rc));
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0', "refused without a reason");
        if (rc == WP_ERR_CONFIG) {
            int named = -1;
            for (int f = 0; f < 3; f++) {
                char prefix[400];
                fuzz_path(prefix, sizeof prefix, slot, f);
                size_t n = strlen(prefix);
                if (strncmp(err, prefix, n) == 0 && strncmp(err + n, ": ", 2) == 0)
                    named = f;
            }
            FUZZ_CHECK(named >= slot, "input as %s refused, but the message names %s: %s",
                       fuzz_files[slot], named >= 0 ? fuzz_files[named] : "no file", err);
        }
    }

    /* The schemas alone, as `wardpulse validate` judges the document. */
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (doc) {
        for (int f = 0; f < 3; f++) {
            char why[512];
            memset(why, 0x5a, sizeof why);
            bool valid = wp_schemas_validate(fuzz_schemas[f], doc, why, sizeof why);
            FUZZ_CHECK(valid || (fuzz_terminated(why, sizeof why) && why[0] != '\0'),
                       "%s: invalid without a reason", fuzz_schemas[f]);
        }
        cJSON_Delete(doc);
    }
    return 0;
}
