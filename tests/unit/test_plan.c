/* test_plan — loading plan_dir: schemas, cross-references, errors that name file and
 * path, and the report check (plan/plan_load.c, plan_rules.c). The aggregator is
 * not a library, so the units under test are compiled in here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plan.h"
#include "schema_registry.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static const char *ORGUNITS =
    "{\"v\":1,\"units\":["
    "{\"code\":\"01\",\"level\":\"city\",\"name_vi\":\"Thành phố Hà Nội\"},"
    "{\"code\":\"001\",\"level\":\"district\",\"name_vi\":\"Quận Ba Đình\",\"parent\":\"01\"},"
    "{\"code\":\"00001\",\"level\":\"ward\",\"name_vi\":\"Phường Phúc Xá\",\"name_en\":\"Phuc Xa ward\","
    " \"parent\":\"001\",\"population\":{\"total\":14500,\"18p\":10875,\"5_11\":1523},"
    " \"population_estimated\":[\"18p\"]},"
    "{\"code\":\"00004\",\"level\":\"ward\",\"name_vi\":\"Phường Trúc Bạch\",\"parent\":\"001\","
    " \"population\":{\"total\":21300,\"18p\":15975,\"5_11\":2237},\"population_estimated\":true}]}";

static const char *CATALOG =
    "{\"v\":1,\"indicators\":["
    "{\"id\":\"cases_new_community\",\"name\":{\"vi\":\"Ca mắc mới\",\"en\":\"New cases\"},"
    " \"kind\":\"daily\",\"rollup\":\"sum\",\"unit\":\"người\",\"bounds\":{\"max\":100000}},"
    "{\"id\":\"vacc_18p_dose1_cum\",\"name\":{\"vi\":\"Mũi 1\",\"en\":\"Dose 1\"},"
    " \"kind\":\"cumulative\",\"rollup\":\"latest\",\"unit\":\"người\"},"
    "{\"id\":\"vacc_18p_dose2_cum\",\"name\":{\"vi\":\"Mũi 2\",\"en\":\"Dose 2\"},"
    " \"kind\":\"cumulative\",\"rollup\":\"latest\",\"unit\":\"người\"},"
    "{\"id\":\"vacc_5_11_dose2_cum\",\"name\":{\"vi\":\"Trẻ 5-11 đủ liều\",\"en\":\"Children full\"},"
    " \"kind\":\"cumulative\",\"rollup\":\"latest\",\"unit\":\"người\"}],"
    "\"tasks\":[{\"id\":\"ward-scenario\",\"name\":{\"vi\":\"Kịch bản\",\"en\":\"Scenario\"}}]}";

#define RULE_HEAD(id, kind, applies)                                                      \
    "{\"id\":\"" id "\",\"kind\":\"" kind "\",\"name\":{\"vi\":\"Tên\",\"en\":\"Name\"},"     \
    "\"severity\":\"warning\",\"applies_to\":\"" applies "\","                                \
    "\"source\":{\"document\":\"KH\",\"section\":\"I.3\"},"

static const char *RULES_OK =
    RULE_HEAD("kids", "coverage", "both")
    "\"numerator\":\"vacc_5_11_dose2_cum\",\"population\":\"5_11\",\"target\":1.0,"
    "\"deadline\":\"2022-08-31\"},"
    RULE_HEAD("daily", "schedule", "ward")
    "\"period\":\"daily\",\"cutoff\":\"17:00\",\"grace_minutes\":60,"
    "\"indicators\":[\"cases_new_community\"],\"from\":\"2022-05-01\"},"
    RULE_HEAD("scenario", "task", "ward")
    "\"task\":\"ward-scenario\",\"assignees\":[\"00001\",\"UBND phường\","
    "{\"name\":\"Phòng Y tế\",\"role\":\"guide\"},{\"name\":\"00004\",\"role\":\"lead\"}],"
    "\"due\":\"2022-06-15\"},"
    RULE_HEAD("ratio", "ratio", "both")
    "\"numerator\":\"vacc_18p_dose2_cum\",\"denominator\":\"vacc_18p_dose1_cum\",\"target\":0.9,"
    "\"counted\":{\"vi\":\"người đã tiêm mũi 2\",\"en\":\"people with dose 2\"}},"
    RULE_HEAD("ratio-plain", "ratio", "ward")
    "\"numerator\":\"vacc_18p_dose2_cum\",\"denominator\":\"vacc_18p_dose1_cum\",\"target\":1},"
    RULE_HEAD("dose2", "check", "both")
    "\"relation\":{\"left\":\"vacc_18p_dose2_cum\",\"op\":\"<=\",\"right\":\"vacc_18p_dose1_cum\"}},"
    RULE_HEAD("pop", "check", "ward")
    "\"relation\":{\"left\":\"vacc_18p_dose1_cum\",\"op\":\"<=\",\"right\":{\"population\":\"18p\"}}},"
    RULE_HEAD("mono", "check", "both")
    "\"relation\":{\"never_decreases\":\"vacc_18p_dose1_cum\"}},"
    RULE_HEAD("level", "level", "both")
    "\"alert_at_level\":2,\"versions\":[{\"id\":\"218\",\"document\":\"QĐ 218\","
    "\"valid_from\":\"2022-01-27\",\"transmission\":[{\"indicator\":\"cases_new_community\","
    "\"per\":100000,\"thresholds\":[20,150,600]}]}]}";

static void write_plan(const char *rules, const char *scope)
{
    char text[16384];
    snprintf(text, sizeof text,
             "{\"v\":1,\"id\":\"test\",\"title\":{\"vi\":\"Kế hoạch\",\"en\":\"Plan\"},"
             "\"scope\":%s,\"utc_offset\":\"+07:00\",\"rules\":[%s]}",
             scope ? scope : "{\"city\":\"01\",\"district\":\"001\"}", rules);
    write_file("plan.json", text);
}

static void reset(void)
{
    write_file("orgunits.json", ORGUNITS);
    write_file("catalog.json", CATALOG);
    write_plan(RULES_OK, NULL);
}

/* Loads dir; returns the error text ("" on success). */
static const char *load(void)
{
    static char err[1024];
    struct plan *plan = NULL;
    err[0] = '\0';
    enum wp_err rc = plan_load(dir, "001", &plan, err, sizeof err);
    if (rc == WP_OK) {
        CHECK(plan != NULL);
        err[0] = '\0';
    } else {
        CHECK(plan == NULL);
    }
    plan_free(&plan);
    return err;
}

static void test_good_plan(void)
{
    reset();
    char err[1024] = "";
    struct plan *plan = NULL;
    CHECK(plan_load(dir, "001", &plan, err, sizeof err) == WP_OK);
    CHECK_STR(err, "");
    if (!plan)
        return;
    CHECK_STR(plan->id, "test");
    CHECK(plan->utc_offset_minutes == 420);
    CHECK(plan->unit_count == 4);
    CHECK_STR(plan->district->code, "001");
    CHECK(plan->ward_count == 2);
    CHECK_STR(plan->wards[0]->name_en, "Phuc Xa ward");
    CHECK_STR(plan->wards[1]->name_en, "Phường Trúc Bạch");   /* no name_en: name_vi */
    CHECK(plan->rule_count == 9);
    const struct plan_rule *r = plan_rule(plan, "kids");
    CHECK(r && r->kind == PLAN_RULE_COVERAGE && r->applies_to == 3);
    CHECK(r && r->u.coverage.trend_days == 14 && r->u.coverage.target == 1.0);
    CHECK_STR(r ? r->source : NULL, "KH, I.3");
    r = plan_rule(plan, "daily");
    CHECK(r && r->u.schedule.cutoff_minute == 17 * 60 && r->u.schedule.grace_minutes == 60);
    CHECK(r && !r->u.schedule.weekly && r->u.schedule.to_day == PLAN_DAY_NONE);
    r = plan_rule(plan, "scenario");
    CHECK(r && r->u.task.assignee_count == 4 && r->applies_to == PLAN_APPLIES_WARD);
    /* roles: a code leads, a bare office supports, a written role is kept */
    CHECK(r && r->u.task.roles[0] == PLAN_ROLE_LEAD && r->u.task.roles[1] == PLAN_ROLE_SUPPORT
          && r->u.task.roles[2] == PLAN_ROLE_GUIDE && r->u.task.roles[3] == PLAN_ROLE_LEAD);
    CHECK_STR(r ? r->u.task.assignees[2] : NULL, "Phòng Y tế");
    CHECK_STR(r ? r->u.task.assignees[3] : NULL, "00004");
    r = plan_rule(plan, "ratio");
    CHECK(r && r->kind == PLAN_RULE_RATIO && r->u.ratio.target == 0.9);
    CHECK_STR(r ? r->u.ratio.numerator : NULL, "vacc_18p_dose2_cum");
    CHECK_STR(r ? r->u.ratio.denominator : NULL, "vacc_18p_dose1_cum");
    CHECK_STR(r ? r->u.ratio.counted.vi : NULL, "người đã tiêm mũi 2");
    r = plan_rule(plan, "ratio-plain");   /* no "counted": the numerator's name */
    CHECK_STR(r ? r->u.ratio.counted.vi : NULL, "Mũi 2");
    CHECK_STR(r ? r->u.ratio.counted.en : NULL, "Dose 2");
    /* population_estimated: a list of groups, or true; a district's sum is an estimate
     * when any ward's figure is */
    CHECK(plan_population_estimated(plan, plan->wards[0], "18p"));
    CHECK(!plan_population_estimated(plan, plan->wards[0], "5_11"));
    CHECK(plan_population_estimated(plan, plan->wards[1], "total"));
    CHECK(plan_population_estimated(plan, plan->district, "total"));
    r = plan_rule(plan, "pop");
    CHECK(r && r->u.check.right_population && !r->u.check.right_indicator);
    r = plan_rule(plan, "mono");
    CHECK(r && r->u.check.never_decreases);
    r = plan_rule(plan, "level");
    CHECK(r && r->u.level.alert_at_level == 2 && r->u.level.versions[0].window_days == 7);
    CHECK(r && r->u.level.versions[0].valid_to_day == PLAN_DAY_NONE);
    int64_t people = 0;
    CHECK(plan_population(plan, plan->district, "5_11", &people) && people == 1523 + 2237);
    CHECK(!plan_population(plan, plan->district, "65p", &people));

    /* the report check */
    struct wp_report rep;
    char reason[256];
    memset(&rep, 0, sizeof rep);
    struct wp_report_value values[2] = {{"cases_new_community", 12}, {"vacc_x", 1}};
    struct wp_report_task tasks[1] = {{"ward-scenario", "done"}};
    strcpy(rep.ward, "00001");
    rep.values = values;
    rep.value_count = 1;
    rep.tasks = tasks;
    rep.task_count = 1;
    CHECK(plan_check_report(plan, &rep, reason, sizeof reason));
    rep.value_count = 2;
    CHECK(!plan_check_report(plan, &rep, reason, sizeof reason));
    CHECK_STR(reason, "values.vacc_x: indicator \"vacc_x\" is not in the plan's catalog");
    rep.value_count = 1;
    values[0].value = 100001;
    CHECK(!plan_check_report(plan, &rep, reason, sizeof reason));
    CHECK_CONTAINS(reason, "values.cases_new_community: 100001 is outside the plausible range");
    values[0].value = 1;
    tasks[0].task = "nope";
    CHECK(!plan_check_report(plan, &rep, reason, sizeof reason));
    CHECK_STR(reason, "tasks.nope: task \"nope\" is not in the plan's catalog");
    tasks[0].task = "ward-scenario";
    strcpy(rep.ward, "00099");
    CHECK(!plan_check_report(plan, &rep, reason, sizeof reason));
    CHECK_STR(reason, "ward: 00099 is not a ward of district 001 in the plan's orgunits.json");
    strcpy(rep.ward, "001");   /* the district office reports its own tasks */
    CHECK(plan_check_report(plan, &rep, reason, sizeof reason));
    plan_free(&plan);
    CHECK(plan == NULL);
}

static void test_bad_files(void)
{
    char expect[1024];
    reset();
    write_file("catalog.json", "{\"v\":1,\n\"indicators\": [}");
    snprintf(expect, sizeof expect, "%s/catalog.json: not valid JSON (line 2", dir);
    CHECK_CONTAINS(load(), expect);

    reset();
    write_file("orgunits.json", "{\"v\":1,\"units\":[{\"code\":\"001\",\"level\":\"town\"}]}");
    snprintf(expect, sizeof expect, "%s/orgunits.json: units[0].level:", dir);
    CHECK_CONTAINS(load(), expect);

    reset();
    char path[512];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    unlink(path);
    snprintf(expect, sizeof expect, "%s/plan.json: No such file or directory", dir);
    CHECK_STR(load(), expect);
}

static void test_cross_references(void)
{
    static const struct { const char *rules, *scope, *error; } cases[] = {
        {RULE_HEAD("a", "coverage", "ward") "\"numerator\":\"vacc_x_cum\",\"population\":\"5_11\","
         "\"target\":1,\"deadline\":\"2022-08-31\"}", NULL,
         "plan.json: rules[0].numerator: indicator \"vacc_x_cum\" is not in catalog.json"},
        {RULE_HEAD("a", "coverage", "ward") "\"numerator\":\"vacc_5_11_dose2_cum\","
         "\"population\":\"65p\",\"target\":1,\"deadline\":\"2022-08-31\"}", NULL,
         "plan.json: rules[0].population: population group \"65p\" is not given for ward 00001 "
         "in orgunits.json"},
        {RULE_HEAD("a", "schedule", "ward") "\"period\":\"daily\",\"cutoff\":\"17:00\","
         "\"grace_minutes\":0,\"indicators\":[\"cases_new_community\",\"deaths\"]}", NULL,
         "plan.json: rules[0].indicators[1]: indicator \"deaths\" is not in catalog.json"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"district-scenario\",\"due\":\"2022-06-15\"}",
         NULL, "plan.json: rules[0].task: task \"district-scenario\" is not in catalog.json"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\","
         "\"assignees\":[\"00002\"]}", NULL,
         "plan.json: rules[0].assignees[0]: unit \"00002\" is neither the district nor one of "
         "its wards in orgunits.json"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\","
         "\"assignees\":[{\"name\":\"00001\",\"role\":\"guide\"}]}", NULL,
         "plan.json: rules[0].assignees[0]: unit \"00001\" is tracked for the task, so its role "
         "can only be \"lead\""},
        {RULE_HEAD("a", "ratio", "both") "\"numerator\":\"severe\",\"denominator\":"
         "\"vacc_18p_dose1_cum\",\"target\":1}", NULL,
         "plan.json: rules[0].numerator: indicator \"severe\" is not in catalog.json"},
        {RULE_HEAD("a", "ratio", "both") "\"numerator\":\"vacc_18p_dose1_cum\",\"denominator\":"
         "\"vacc_18p_dose1_cum\",\"target\":1}", NULL,
         "plan.json: rules[0].denominator: \"vacc_18p_dose1_cum\" is the numerator too"},
        {RULE_HEAD("a", "check", "both") "\"relation\":{\"left\":\"vacc_18p_dose1_cum\","
         "\"op\":\"<=\",\"right\":\"severe\"}}", NULL,
         "plan.json: rules[0].relation.right: indicator \"severe\" is not in catalog.json"},
        {RULE_HEAD("a", "check", "ward") "\"relation\":{\"never_decreases\":\"deaths_cum\"}},"
         RULE_HEAD("a", "check", "ward") "\"relation\":{\"never_decreases\":\"deaths_cum\"}}",
         NULL, "plan.json: rules[0].relation.never_decreases: indicator \"deaths_cum\" is not in "
         "catalog.json"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\"},"
         RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\"}",
         NULL, "plan.json: rules[1].id: \"a\" is already the id of another rule"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\"}",
         "{\"city\":\"01\",\"district\":\"002\"}",
         "plan.json: scope.district: the plan is for district 002, the aggregator serves "
         "district 001"},
        {RULE_HEAD("a", "task", "ward") "\"task\":\"ward-scenario\",\"due\":\"2022-06-15\"}",
         "{\"city\":\"92\"}",
         "plan.json: scope.city: the plan is for city 92, district 001 belongs to city 01"},
        {RULE_HEAD("a", "level", "both") "\"versions\":["
         "{\"id\":\"x\",\"document\":\"d\",\"valid_from\":\"2022-01-01\",\"valid_to\":\"2022-03-01\","
         "\"transmission\":[{\"indicator\":\"cases_new_community\",\"per\":100000,\"thresholds\":[1,2,3]}]},"
         "{\"id\":\"y\",\"document\":\"d\",\"valid_from\":\"2022-02-01\","
         "\"transmission\":[{\"indicator\":\"cases_new_community\",\"per\":100000,\"thresholds\":[1,2,3]}]}]}",
         NULL, "plan.json: rules[0].versions[1].valid_from: overlaps version \"x\""},
        {RULE_HEAD("a", "level", "both") "\"versions\":["
         "{\"id\":\"x\",\"document\":\"d\",\"valid_from\":\"2022-01-01\","
         "\"transmission\":[{\"indicator\":\"cases_new_community\",\"per\":100000,\"thresholds\":[5,2,3]}]}]}",
         NULL, "plan.json: rules[0].versions[0].transmission[0].thresholds: must increase"},
        {RULE_HEAD("a", "coverage", "ward") "\"numerator\":\"vacc_5_11_dose2_cum\","
         "\"population\":\"5_11\",\"target\":1.5,\"deadline\":\"2022-08-31\"}", NULL,
         "plan.json: rules[0]: must match at least one schema of anyOf (the first says: "
         "rules[0].target: must be ≤ 1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset();
        write_plan(cases[i].rules, cases[i].scope);
        char expect[1024];
        snprintf(expect, sizeof expect, "%s/%s", dir, cases[i].error);
        const char *got = load();
        if (strncmp(got, expect, strlen(expect)) != 0)
            fprintf(stderr, "case %zu\n", i);
        CHECK_STR(got, expect);
    }

    reset();
    write_file("orgunits.json",
               "{\"v\":1,\"units\":[{\"code\":\"01\",\"level\":\"city\",\"name_vi\":\"HN\"},"
               "{\"code\":\"001\",\"level\":\"district\",\"name_vi\":\"BĐ\",\"parent\":\"01\"},"
               "{\"code\":\"00001\",\"level\":\"ward\",\"name_vi\":\"PX\",\"parent\":\"009\","
               "\"population\":{\"total\":1}}]}");
    char expect[512];
    snprintf(expect, sizeof expect, "%s/orgunits.json: units[2].parent: unit \"009\" is not in the "
             "file", dir);
    CHECK_STR(load(), expect);
    write_file("orgunits.json",
               "{\"v\":1,\"units\":[{\"code\":\"01\",\"level\":\"city\",\"name_vi\":\"HN\"},"
               "{\"code\":\"002\",\"level\":\"district\",\"name_vi\":\"BĐ\",\"parent\":\"01\"}]}");
    snprintf(expect, sizeof expect, "%s/orgunits.json: units: district \"001\" (the aggregator's "
             "district setting) is not in the file", dir);
    CHECK_STR(load(), expect);
    write_file("orgunits.json", ORGUNITS);
    write_file("catalog.json",
               "{\"v\":1,\"indicators\":[{\"id\":\"a\",\"name\":{\"vi\":\"a\",\"en\":\"a\"},"
               "\"kind\":\"daily\",\"rollup\":\"sum\",\"unit\":\"x\"},"
               "{\"id\":\"a\",\"name\":{\"vi\":\"a\",\"en\":\"a\"},"
               "\"kind\":\"daily\",\"rollup\":\"sum\",\"unit\":\"x\"}]}");
    snprintf(expect, sizeof expect, "%s/catalog.json: indicators[1].id: \"a\" is already "
             "indicators[0]", dir);
    CHECK_STR(load(), expect);
}

/* The ready plans of plans/ load, once they are complete. */
static void test_ready_plans(void)
{
    const char *src = getenv("WP_SOURCE_DIR");
    char path[512], err[1024];
    if (!src)
        src = "..";
    /* Part of the tree: not there is a failure, never a quiet pass. */
    snprintf(path, sizeof path, "%s/plans/ba-dinh-2022/plan.json", src);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/plans/ba-dinh-2022", src);
    struct plan *plan = NULL;
    enum wp_err rc = plan_load(path, "001", &plan, err, sizeof err);
    if (rc != WP_OK)
        fprintf(stderr, "ready plan: %s\n", err);
    CHECK(rc == WP_OK);
    CHECK(!plan || plan->ward_count == 14);
    plan_free(&plan);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/wardpulse-test-plan-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_good_plan();
    test_bad_files();
    test_cross_references();
    test_ready_plans();
    const char *files[] = {"orgunits.json", "catalog.json", "plan.json"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    wp_schemas_release();
    return CHECK_DONE();
}
