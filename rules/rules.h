/* rules.h — the evaluation of plan rules, as pure functions over small data views.
 *
 * Each kind of rule has one function that takes the rule, the unit it is evaluated on,
 * the data that matter (already fetched and rolled up by evaluate.c) and the time, and
 * fills a struct rule_outcome: is something wrong (FIRING), about to be (PENDING), or
 * not (OK), with the figures and the summaries in Vietnamese and English. No function
 * here touches the database, the clock or MQTT, so each is unit-tested on its own
 * (tests/unit/test_rules.c); evaluate.c feeds them and alerts.c acts on the outcome.
 *
 * Times are Unix ms; days are days since 1970-01-01 in the plan's local time.
 */
#ifndef WP_AGGREGATOR_RULES_H
#define WP_AGGREGATOR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_text.h"
#include "plan.h"

enum rule_state { RULE_OK, RULE_PENDING, RULE_FIRING };

struct rule_outcome {
    enum rule_state state;
    enum plan_severity severity;  /* of the alert: the rule's, or what the kind says */
    int64_t since_ms;             /* FIRING: when the condition began, if the rule knows it
                                   * (a cut-off, a due date); 0: from when it is noticed */
    bool has_value, has_target;
    double value, target;
    int64_t deadline_day;         /* PLAN_DAY_NONE when the rule has none */
    bool value_is_news;           /* FIRING: a firing alert whose value changes is a
                                   * transition (events/alert, the hook), not only new
                                   * figures: a level that rises 3 → 4 (or falls 4 → 3
                                   * while still at or above the alert level) */
    struct text vi, en;           /* FIRING: what is wrong; OK: how it was resolved, or
                                   * empty (the alert then says so in general words) */
};

/* The unit a rule is evaluated on: a ward, or the district from its wards rolled up. */
struct rule_unit {
    const char *scope;            /* alert scope: the reporting unit's code, or "district"
                                   * ("city" at a city aggregator) for the served unit */
    const char *code;             /* the unit code ("00001", "001") */
    const char *name_vi;          /* "Phường Phúc Xá", "Quận Ba Đình" */
    const char *name_en;
};

/* A unit's values of one indicator, one point per period, ordered by last_day (then
 * first_day): what coverage, check and level rules look at (series.h builds them). */
struct rule_point {
    char period[12];              /* "2022-05-03" or "2022-W18" */
    int64_t first_day, last_day;
    int64_t value;
};

struct rule_series {
    size_t count;
    const struct rule_point *points;
};

/* Starts an outcome: OK, the rule's severity, no figures. */
void rule_outcome_init(struct rule_outcome *o, const struct plan_rule *rule);

/* ---- silence: what target rules share ---------------------------------------------- */

/* A unit silent on the figures a target rule needs: of the n series (ids: their
 * indicators; a NULL series or id is skipped), the one lacking longest — whose latest
 * point ending on or before today ends before the others' (never sent counts as oldest)
 * — when it is silence_days old: its last period ended on *since − 1 (*since = the
 * expected day when it never came, and never before it) and today ≥ *since + silence_days.
 * Sets *indicator, *last (NULL: never sent) and *since; false when nothing is lacking so
 * long, or expected_from_day is PLAN_DAY_NONE. */
bool rule_silent(const struct rule_series *const *series, const char *const *ids, size_t n,
                 int64_t expected_from_day, int silence_days, int64_t today,
                 const char **indicator, const struct rule_point **last, int64_t *since);

/* Makes out a silence: FIRING, warning (info for an info rule), since the day the silence
 * reached silence_days, saying "Phường Phúc Xá chưa gửi số liệu \"<indicator>\" từ ngày
 * 01/05/2022 (7 ngày, chưa gửi lần nào)" or "(…; số liệu gần nhất ngày 30/04/2022)"; the
 * caller goes on with what the figures are needed for. */
void rule_silence(const struct plan *plan, const struct plan_rule *rule,
                  const struct rule_unit *unit, const char *indicator,
                  const struct rule_point *last, int64_t since, int silence_days, int64_t today,
                  struct rule_outcome *out);

/* ---- schedule: report_missing ------------------------------------------------------ */

/* One expected report of a ward. rule_schedule_slots fills the period and times;
 * the caller fills complete_ms and missing. */
struct schedule_slot {
    char period[12];              /* "2022-05-03" or "2022-W18" */
    int64_t due_ms;               /* the cut-off */
    int64_t alert_ms;             /* cut-off + grace: missing from then on */
    int64_t complete_ms;          /* when the last expected indicator came, as judged for
                                   * timeliness (committed at the ward: store.h version 5);
                                   * 0: not yet */
    int64_t received_ms;          /* when it arrived here (≥ complete_ms); 0: not yet */
    size_t missing_count;         /* expected indicators still missing (0 when complete) */
    const char *missing_first;    /* id of one missing indicator, for the summary */
};

/* Fills slots (at most max) with the periods of the rule whose cut-off is at or before
 * now_ms, oldest first, from from_day (the first period expected: the rule's from, else
 * the plan's valid_from, else what the caller chose) to the rule's or plan's to.
 * Returns how many there are in all (which may exceed max: then the newest max are kept). */
size_t rule_schedule_slots(const struct plan *plan, const struct plan_rule *rule,
                           int64_t from_day, int64_t now_ms, struct schedule_slot *slots,
                           size_t max);

/* Due instant (the cut-off) of one period under the rule. */
int64_t rule_schedule_due_ms(const struct plan *plan, const struct plan_rule *rule,
                             int64_t period_last_day);

/* FIRING while a slot is past alert_ms without a complete report (value: how many);
 * PENDING while the newest is past its cut-off but within grace; else OK (the summary
 * then tells the latest late arrival: late, or committed on time at the ward and
 * delivered after the alert time, the link having been down). */
void rule_schedule_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct schedule_slot *slots,
                            size_t count, int64_t now_ms, struct rule_outcome *out);

/* ---- reports-lost: wardpulse's own rule (kind reports_lost) -------------------------- */

/* How long a declaration of lost reports keeps the alert firing. */
#define RULE_LOST_FIRING_MS (7 * INT64_C(86400000))

/* Seqs of one stream of a unit that were declared lost (store.h, lost_reports). */
struct rule_lost_range {
    char stream[17];
    int64_t first_seq, last_seq;
    int64_t declared_ms;
};

/* ranges: the unit's declarations of the last RULE_LOST_FIRING_MS before now_ms, oldest
 * first (count may be 0); total: how many seqs they hold in all (more ranges than the
 * caller kept still count). FIRING, critical, since the first of them, naming stream and
 * seqs and asking the unit to send those figures again; OK when there are none. */
void rule_lost_evaluate(const struct plan_rule *rule, const struct rule_unit *unit,
                        const struct rule_lost_range *ranges, size_t count, int64_t total,
                        struct rule_outcome *out);

/* ---- refusals-over-bound: wardpulse's own rule (kind refusals_over_bound) ----------- */

/* One unit's refused messages on one local day (store_refusals_on_day). */
struct rule_flood_day {
    int64_t day;        /* the local day */
    int64_t refused;    /* refused messages received that day, repeats included */
    int64_t not_kept;   /* of those, over the daily bound: counted, payload not kept */
};

/* FIRING (warning) while the unit went over the district's daily bound of refused
 * messages that day (not_kept > 0), naming how many it sent and asking for its computer
 * and account to be checked; OK otherwise, so the next local midnight resolves it. */
void rule_flood_evaluate(const struct plan_rule *rule, const struct rule_unit *unit,
                         const struct rule_flood_day *today, struct rule_outcome *out);

/* ---- task: task_overdue ------------------------------------------------------------- */

/* state: the task's state in force for the unit ("done", "in_progress", "not_started")
 * or NULL when never reported. FIRING from the end of the due day while not done; the
 * summary then names who leads the task (the unit's People's Committee: "Chủ trì: UBND
 * phường Phúc Xá", and offices whose role is lead) apart from the offices that guide it
 * ("hướng dẫn: Phòng Y tế") and those that support it ("phối hợp: Công an quận"). */
void rule_task_evaluate(const struct plan *plan, const struct plan_rule *rule,
                        const struct rule_unit *unit, const char *state, int64_t now_ms,
                        struct rule_outcome *out);

/* End of the due day of a task rule (local midnight after it). */
int64_t rule_task_due_end_ms(const struct plan *plan, const struct plan_rule *rule);

/* ---- check: data_quality -------------------------------------------------------- */

/* A comparison left op right per period, on the periods both series have; right is a
 * series, or NULL with right_constant (a population group) instead. never_decreases
 * rules look at left only: a period whose value is below the previous period's.
 * FIRING while any period violates (value: left − right, or the drop, of the latest). */
void rule_check_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct rule_series *left,
                         const struct rule_series *right, double right_constant,
                         struct rule_outcome *out);

/* ---- ratio: target_missed ------------------------------------------------------------- */

/* A target per period: numerator / denominator ≥ the rule's target, on the periods both
 * series have (a period whose denominator is 0 has nothing to count and is met). It is a
 * target missed, not a data error: the figures are taken as true.
 *   silent  the unit has not sent one of the two figures for silence_days (rule_silent,
 *           from expected_from_day as for coverage; D = the local day of now_ms): FIRING,
 *           warning (info for an info rule), "Phường Phúc Xá chưa gửi số liệu \"…\" từ
 *           ngày … (… ngày, chưa gửi lần nào), cần cho chỉ tiêu \"<rule name>\"" — before a
 *           miss of older figures: a target is not judged on figures the unit stopped
 *           sending.
 *   missed  the latest period with both misses (value: its ratio; target: the rule's):
 *           FIRING, saying e.g. "Phường Phúc Xá: mới có 3/5 người bệnh nặng, nguy kịch được
 *           điều trị theo quy định, chưa đạt chỉ tiêu 100% (ngày 03/05/2022)" and how many
 *           periods in a row have missed.
 * OK once it meets the target (the summary then says so), or with nothing said while no
 * period has both and the unit is not silent yet. */
void rule_ratio_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct rule_series *numerator,
                         const struct rule_series *denominator, int64_t expected_from_day,
                         int64_t now_ms, struct rule_outcome *out);

/* ---- announce: announcement ----------------------------------------------------------- */

/* Each value > 0 of a daily indicator announced the day it is reported (every COVID-19
 * death, issue 10). With D the local day of now_ms: FIRING while the unit's point for the
 * day D (the period of D itself) is > 0 — value: that count, which is the news
 * (value_is_news: a correction upward the same day is announced again); severity the
 * rule's (info) — saying "Phường Phúc Xá báo cáo 1 ca tử vong do COVID-19 ngày
 * 03/05/2022". OK otherwise: from the first evaluation after local midnight (the
 * announcement belonged to its day; the next day with deaths is a new announcement), the
 * summary then recalls yesterday's count, or says that today's figure was corrected to 0.
 * A figure of an earlier day that reaches the aggregator after that day is in the unit's
 * series (and its level) but is not announced: the rule looks at today's period only. */
void rule_announce_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct rule_series *series,
                            int64_t now_ms, struct rule_outcome *out);

/* ---- coverage ------------------------------------------------------------------------ */

/* Figures older than this many days are dated in an at-risk summary ("the latest figures
 * are from 12/05/2022"). */
#define RULE_COVERAGE_STALE_DAYS 3

/* What a coverage rule is given for one unit. */
struct coverage_input {
    const struct rule_series *numerator;     /* the unit's cumulative series */
    double denominator;                      /* people of the group, or the value in force
                                              * today of the denominator indicator; ≤ 0:
                                              * unknown */
    const struct rule_series *denominator_series;   /* that indicator's series; NULL when
                                                     * the denominator is a population */
    int64_t expected_from_day;               /* the first day the unit's figures are
                                              * expected (evaluate.c: the later of the
                                              * plan's valid_from and the day the first
                                              * report reached this database);
                                              * PLAN_DAY_NONE: nothing expected yet */
};

/* With D the local day of now_ms, v(d) the numerator's value in force on day d (its
 * latest period ending on or before d) and L the last day of that period:
 *   met      v(D) / denominator ≥ target: OK (whenever, even after the deadline).
 *   silent   a figure the rule needs (the numerator, or the denominator indicator) has not
 *            come for silence_days: its last period ended on day S − 1 (S = the expected
 *            day when it never came, and never before it) and D ≥ S + silence_days. Before
 *            the deadline: FIRING, warning, "no figures for <target> since S"; after it,
 *            see missed.
 *   missed   D after the deadline and not met: FIRING, critical, since the end of the
 *            deadline day; with no figures at all ("missed — no figures") when v or the
 *            denominator is unknown and figures were expected by the deadline
 *            (expected_from_day ≤ deadline; a system started after the deadline says
 *            nothing about a target it never watched).
 *   at risk  before the deadline, from the figures as they are: P the latest period
 *            ending on or before L − trend_days, slope = (v(L) − v(P)) / (L − P) (the real
 *            days between the two), projection = v(L) + slope × (deadline − L); FIRING,
 *            warning, when the projection misses the target; the summary dates the last
 *            figure when D − L > RULE_COVERAGE_STALE_DAYS. No P: no trend, nothing said.
 * value: v(D) / denominator when both are known. */
/* The coverage of day: v(day) / denominator, the value an alert of the rule carries and
 * what the CLI shows. False when either is unknown. */
bool rule_coverage_value(const struct coverage_input *in, int64_t day, double *ratio);

void rule_coverage_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct coverage_input *in,
                            int64_t now_ms, struct rule_outcome *out);

/* ---- level -------------------------------------------------------------------------- */

#define RULE_LEVEL_CRITERIA_MAX 8   /* plan.schema.json: transmission has at most 8 */

/* Where a level rule gets the unit's data. */
struct level_data {
    /* The unit's series of indicator (NULL or empty: no data). */
    const struct rule_series *(*series)(void *ctx, const char *indicator);
    /* People of group in the unit; false when unknown. */
    bool (*population)(void *ctx, const char *group, double *people);
    void *ctx;
};

/* The level of one ISO week. */
struct level_week {
    char week[9];                 /* "2022-W18" */
    int64_t monday;               /* its first day */
    int level;                    /* 1 green, 2 yellow, 3 orange, 4 red */
    int previous;                 /* the level of the week before, 0 when unknown */
    const struct plan_level_version *version;
    size_t dominant;              /* the criterion that set the transmission level */
    int transmission;             /* the transmission level (1–4), before conditions */
    double rates[RULE_LEVEL_CRITERIA_MAX];   /* per criterion; < 0 when unknown */
    int64_t counts[RULE_LEVEL_CRITERIA_MAX]; /* events in the window per criterion */
    int missing_days;             /* most days without a figure of an expected_daily
                                   * criterion; > 0: the week is incomplete */
};

/* The levels of the complete weeks (Monday to Sunday, the Sunday before today's week at
 * the latest) from the first week with data, oldest first, at most max (the newest).
 * Per week: the criteria version valid on its Sunday; each transmission rate = the sum of
 * the indicator over the window ending that Sunday / population × per, whose thresholds
 * give levels 1–4 (level 1 when the sum is below the criterion's min_count: a rate from
 * too few events moves nothing); the transmission level is the highest; with a matrix,
 * the level is matrix[transmission][number of matrix conditions unmet or unknown], else
 * the transmission level; each raise_one condition not met adds one (at most 4); a
 * no_lowering condition not met keeps the level at least last week's. A raise_one or
 * no_lowering condition whose figures are unknown is not applied. A week in which an
 * expected_daily criterion lacks figures for some days is incomplete (missing_days):
 * its level is at least last week's, never lower because figures are missing. A week
 * without any transmission figure is skipped (not known, not green). Returns how many. */
size_t rule_level_weeks(const struct plan *plan, const struct plan_rule *rule,
                        const struct level_data *data, int64_t now_ms,
                        struct level_week *weeks, size_t max);

/* FIRING while the latest week's level is at or above alert_at_level (value: the level,
 * which is the news: value_is_news; target: alert_at_level; since: the end of that
 * week); the summary says the level, how it moved, the rate that set it, and whether the
 * week is incomplete. */
void rule_level_evaluate(const struct plan *plan, const struct plan_rule *rule,
                         const struct rule_unit *unit, const struct level_week *weeks,
                         size_t count, struct rule_outcome *out);

/* "xanh" "vàng" "cam" "đỏ" / "green" "yellow" "orange" "red" for levels 1–4. */
const char *rule_level_color_vi(int level);
const char *rule_level_color_en(int level);

/* A level as NQ 128/NQ-CP names it: "cấp độ 3 – nguy cơ cao (màu cam)" / "level 3 – high
 * risk (orange)"; short, for the level it moved from: "cấp độ 2 (màu vàng)" / "level 2
 * (yellow)". */
void rule_level_name_vi(struct text *t, int level, bool short_form);
void rule_level_name_en(struct text *t, int level, bool short_form);

/* A weekly rate of a level criterion: "200,0 ca/100.000 dân/tuần" / "200.0 cases/100,000
 * people/week" (window_days other than 7: "/14 ngày", "/14 days"). */
void rule_level_rate_vi(struct text *t, double rate, double per, int window_days);
void rule_level_rate_en(struct text *t, double rate, double per, int window_days);

/* Names of a population group for people: "18p" → "18+", "5_11" → "5–11",
 * "total" → "toàn bộ dân số" / "whole population". */
void rule_group_vi(struct text *t, const char *group);
void rule_group_en(struct text *t, const char *group);

#endif
