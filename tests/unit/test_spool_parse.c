/* test_spool_parse — a spool file judged whole (agent/spool_parse.c, spool_csv.c): the CSV
 * a clerk exports from a spreadsheet, report JSON, and the files that must be refused
 * with the line and the reason. */

/* The agent's sources are not a library; this test compiles the files it checks. */

#include "check.h"
#include "intake.h"
#include "schema_registry.h"
#include "spool_csv.h"
#include "spool_parse.h"
#include "spool_problems.h"

#define WARD "00001"

struct judged {
    struct spool_batch batch;
    struct spool_problems problems;
    enum wp_err err;
};

static struct judged judge(const char *name, const char *text, size_t len)
{
    struct judged j;
    memset(&j, 0, sizeof j);
    j.err = spool_parse(name, text, len, WARD, &j.batch, &j.problems);
    return j;
}

static struct judged judge_text(const char *name, const char *text)
{
    return judge(name, text, strlen(text));
}

static void judged_free(struct judged *j)
{
    spool_batch_free(&j->batch);
    spool_problems_free(&j->problems);
}

static int64_t value_of(const struct wp_report *r, const char *indicator)
{
    for (size_t i = 0; i < r->value_count; i++)
        if (strcmp(r->values[i].indicator, indicator) == 0)
            return r->values[i].value;
    return -1;
}

static const char *task_of(const struct wp_report *r, const char *task)
{
    for (size_t i = 0; i < r->task_count; i++)
        if (strcmp(r->tasks[i].task, task) == 0)
            return r->tasks[i].state;
    return NULL;
}

static void test_csv_as_documented(void)
{
    struct judged j = judge_text("bao-cao.csv",
                                 "period,indicator,value\n"
                                 "2022-05-03,cases_new_community,12\n"
                                 "2022-05-03,vacc_18p_dose3_cum,12000\n"
                                 "2022-05-03,task:ward-scenario,done\n"
                                 "2022-05-03,note,\"Đã kiểm tra, \"\"đúng\"\"\"\n"
                                 "2022-W18,cases_new_community,40\n"
                                 "2022-05-02,cases_new_community,9\n");
    CHECK(j.err == WP_OK);
    CHECK(j.problems.count == 0);
    CHECK(j.batch.count == 3);
    if (j.batch.count == 3) {
        /* One report per period, in the order the periods first appear. */
        CHECK_STR(j.batch.reports[0].period, "2022-05-03");
        CHECK(j.batch.lines[0] == 2);
        CHECK(value_of(&j.batch.reports[0], "cases_new_community") == 12);
        CHECK(value_of(&j.batch.reports[0], "vacc_18p_dose3_cum") == 12000);
        CHECK_STR(task_of(&j.batch.reports[0], "ward-scenario"), "done");
        CHECK_STR(j.batch.reports[0].note, "Đã kiểm tra, \"đúng\"");
        CHECK_STR(j.batch.reports[0].ward, WARD);
        CHECK_STR(j.batch.reports[1].period, "2022-W18");
        CHECK(j.batch.lines[1] == 6);
        CHECK_STR(j.batch.reports[2].period, "2022-05-02");
        CHECK(value_of(&j.batch.reports[2], "cases_new_community") == 9);
    }
    judged_free(&j);
}

static void test_csv_as_spreadsheets_write_it(void)
{
    /* BOM, CRLF, ';' (a Vietnamese-locale Excel), header in capitals and reordered, spaces,
     * empty trailing columns, blank rows, a comment, an empty value (no figure). */
    struct judged j = judge_text("export.CSV",
                                 "\xEF\xBB\xBF# exported 2022-05-03\r\n"
                                 "Indicator ; Period ; VALUE;;\r\n"
                                 " cases_new_community ; 2022-05-03 ; 7 ;;\r\n"
                                 ";;;;\r\n"
                                 "\r\n"
                                 "deaths;2022-05-03;;;\r\n"
                                 "\"task:ward-scenario\";\"2022-05-03\";\"in_progress\";;\r\n"
                                 "note;2022-05-03;\"two\r\nlines\";;\r\n");
    CHECK(j.err == WP_OK);
    CHECK(j.problems.count == 0);
    if (j.problems.count)
        fprintf(stderr, "%s", spool_problems_text(&j.problems));
    CHECK(j.batch.count == 1);
    if (j.batch.count == 1) {
        CHECK(value_of(&j.batch.reports[0], "cases_new_community") == 7);
        CHECK(value_of(&j.batch.reports[0], "deaths") == -1); /* empty: not sent */
        CHECK_STR(task_of(&j.batch.reports[0], "ward-scenario"), "in_progress");
        CHECK_STR(j.batch.reports[0].note, "two\nlines");
    }
    judged_free(&j);

    j = judge_text("tabs.csv", "period\tindicator\tvalue\n2022-05-03\tdeaths\t0\n");
    CHECK(j.problems.count == 0 && j.batch.count == 1);
    judged_free(&j);
}

static void test_csv_problems_name_every_line(void)
{
    struct judged j = judge_text("bad.csv",
                                 "period,indicator,value\n"
                                 "2022-05-03,cases_new_community,12\n"
                                 "2022-05-03,deaths,-3\n"
                                 "2022-05-03,vacc_18p_dose3_cum,12.000\n"
                                 "2022-05-03,task:ward-scenario,finished\n"
                                 "2022-05-03,Cases,1\n"
                                 "2022-05-03,cases_new_community,13\n"
                                 "03/05/2022,deaths,1\n"
                                 "2022-05-04,deaths,1,extra\n");
    CHECK(j.err == WP_OK);
    CHECK(j.batch.count == 0); /* nothing of a refused file */
    const char *text = spool_problems_text(&j.problems);
    CHECK_CONTAINS(text, "line 9: 4 fields, more than the header's 3");
    /* The layout is judged before the values: a file with layout problems stops there. */
    judged_free(&j);

    j = judge_text("bad.csv",
                   "period,indicator,value\n"
                   "2022-05-03,cases_new_community,12\n"
                   "2022-05-03,deaths,-3\n"
                   "2022-05-03,vacc_18p_dose3_cum,12.000\n"
                   "2022-05-03,task:ward-scenario,finished\n"
                   "2022-05-03,Cases,1\n"
                   "2022-05-03,cases_new_community,13\n"
                   "03/05/2022,deaths,1\n");
    text = spool_problems_text(&j.problems);
    CHECK(j.batch.count == 0);
    CHECK_CONTAINS(text, "line 4: values.vacc_18p_dose3_cum: '12.000' is not a whole number");
    CHECK_CONTAINS(text, "line 7: cases_new_community for 2022-05-03 is given twice (first on line 2)");
    CHECK_CONTAINS(text, "line 3: values.deaths: must be ≥ 0\n");
    CHECK_CONTAINS(text, "line 5: tasks.ward-scenario: must be one of");
    CHECK_CONTAINS(text, "line 8: period: ");
    CHECK_CONTAINS(text, "format the period column as text");
    judged_free(&j);

    /* Values that parse but the aggregator's decoder refuses: its own words, each line. */
    j = judge_text("bad.csv",
                   "period,indicator,value\n"
                   "2022-05-03,cases_new_community,12\n"
                   "2022-05-03,deaths,-3\n"
                   "2022-05-03,task:ward-scenario,finished\n"
                   "2022-05-03,Cases,1\n"
                   "2022-05-03,cases_new_community_x,10000000000000\n");
    text = spool_problems_text(&j.problems);
    CHECK(j.batch.count == 0);
    CHECK(j.problems.count == 4);
    CHECK_CONTAINS(text, "line 3: values.deaths: must be ≥ 0\n");
    CHECK_CONTAINS(text, "line 4: tasks.ward-scenario: must be one of");
    CHECK_CONTAINS(text, "line 5: values: unknown property \"Cases\"");
    CHECK_CONTAINS(text, "line 6: values.cases_new_community_x: must be ≤ 1000000000000");
    judged_free(&j);
}

static void test_csv_layout_problems(void)
{
    struct judged j = judge_text("h.csv", "ngay,chi_so,gia_tri\n2022-05-03,deaths,1\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems),
                   "line 1: unknown column 'ngay': the header line must be period,indicator,value");
    judged_free(&j);
    j = judge_text("h.csv", "period,value\n2022-05-03,1\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 1: no 'indicator' column");
    judged_free(&j);
    j = judge_text("h.csv", "");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "the file is empty");
    judged_free(&j);
    j = judge_text("h.csv", "period,indicator,value\n2022-05-03,deaths,\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "no figures");
    judged_free(&j);
    j = judge_text("q.csv", "period,indicator,value\n2022-05-03,note,\"open\n2022-05-04,deaths,1\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: a quoted field is never closed");
    judged_free(&j);
    j = judge_text("q.csv", "period,indicator,value\n2022-05-03,note,\"a\"b\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: text after the closing quote");
    judged_free(&j);
    j = judge_text("q.csv", "period,indicator,value\n2022-05-03,deaths\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: 2 field(s), but the header has 3");
    judged_free(&j);
    j = judge_text("q.csv", "period,indicator,value\n,deaths,1\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: the period column is empty");
    judged_free(&j);
}

static void test_many_problems_are_counted_but_not_all_listed(void)
{
    char text[8192] = "period,indicator,value\n";
    for (int i = 0; i < 50; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "2022-05-03,d%d,-1\n", i);
    struct judged j = judge_text("many.csv", text);
    CHECK(j.problems.count == 50);
    const char *t = spool_problems_text(&j.problems);
    CHECK_CONTAINS(t, "line 2: values.d0: must be ≥ 0");
    CHECK_CONTAINS(t, "... and 30 more problem(s)");
    CHECK(strstr(t, "line 30:") == NULL);
    judged_free(&j);
}

static void test_json(void)
{
    struct judged j = judge_text("r.json", "{\"period\":\"2022-05-03\",\"values\":{\"deaths\":1},"
                                           "\"tasks\":{\"ward-scenario\":\"done\"}}\n");
    CHECK(j.problems.count == 0 && j.batch.count == 1);
    judged_free(&j);
    j = judge_text("r.json", "[{\"period\":\"2022-05-03\",\"values\":{\"deaths\":1}},"
                             " {\"period\":\"2022-05-04\",\"values\":{}}]");
    CHECK(j.problems.count == 0 && j.batch.count == 2);
    judged_free(&j);
    j = judge_text("r.json", "[{\"period\":\"2022-05-03\",\"values\":{\"deaths\":1}},\n"
                             " {\"period\":\"2022-05-04\",\"values\":{\"deaths\":-1}}]");
    CHECK(j.batch.count == 0);
    CHECK_CONTAINS(spool_problems_text(&j.problems), "report 2 of the array: values.deaths: must be ≥ 0");
    judged_free(&j);
    j = judge_text("r.json", "{\"period\":\"2022-05-03\",\n\"values\":{\"deaths\":1,}}");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: not valid JSON");
    judged_free(&j);
    j = judge_text("r.json", "{\"period\":\"2022-05-03\",\"values\":{},\"seq\":4}");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "seq: must not be given");
    judged_free(&j);
    j = judge_text("r.json", "{\"period\":\"2022-05-03\",\"values\":{}}\n{}");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: unexpected text after the JSON");
    judged_free(&j);
}

static void test_not_text(void)
{
    static const char binary[] = "period,indicator,value\n2022\x00-05-03,deaths,1\n";
    struct judged j = judge("x.csv", binary, sizeof binary - 1);
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: a NUL byte at column 5");
    judged_free(&j);
    /* "Phúc Xá" in Windows-1258, as a legacy "CSV" export writes it. */
    j = judge_text("x.csv", "period,indicator,value\n2022-05-03,note,Ph\xfa\x63 X\xe1\n");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "line 2: not UTF-8 text (byte 0xFA at column 19)");
    judged_free(&j);
    j = judge_text("x.csv", "\xed\xa0\x80"); /* a UTF-16 surrogate */
    CHECK_CONTAINS(spool_problems_text(&j.problems), "not UTF-8 text");
    judged_free(&j);
    j = judge_text("report.xlsx", "PK\x03\x04");
    CHECK_CONTAINS(spool_problems_text(&j.problems), "the spool takes .csv and .json files only");
    judged_free(&j);

    /* Random bytes are refused, never a crash (ASan builds run this too). */
    unsigned seed = 12345;
    char noise[4096];
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 13 % (int)sizeof noise);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Mostly CSV-ish characters, so that the reader gets past the text check. */
            const char alphabet[] = "period,indicator,value\n\"\r;\t2022-05-03 note task: -1x";
            char c = (seed >> 16) % 7 == 0 ? (char)(seed >> 8) : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
            noise[i] = c;
        }
        j = judge(round % 2 ? "n.csv" : "n.json", noise, n);
        CHECK(j.err == WP_OK);
        CHECK(j.problems.count > 0 || j.batch.count > 0);
        CHECK(j.problems.count == 0 || j.batch.count == 0);
        judged_free(&j);
    }
}

int main(void)
{
    test_csv_as_documented();
    test_csv_as_spreadsheets_write_it();
    test_csv_problems_name_every_line();
    test_csv_layout_problems();
    test_many_problems_are_counted_but_not_all_listed();
    test_json();
    test_not_text();
    wp_schemas_release();
    return CHECK_DONE();
}
