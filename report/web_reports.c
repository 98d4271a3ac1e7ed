/* web_reports.c — finished weeks' HTML reports and their index (web_reports.h). */
#include "web_reports.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "calendar.h"
#include "file.h"
#include "log.h"
#include "report_model.h"
#include "timefmt.h"

#define WEB_REPORTS_INDEX_MAX (1 << 20)   /* bytes: far more than years of weeks */

/* The index as it is on disk; an empty one when it is absent or unreadable (every week
 * is then written again, which only costs time). */
static cJSON *web_reports_read_index(const char *path, const char *district)
{
    const char *why;
    cJSON *index = NULL;
    FILE *f = wp_file_open(path, &why);
    if (f) {
        char *text = malloc(WEB_REPORTS_INDEX_MAX + 1);
        size_t n = text ? fread(text, 1, WEB_REPORTS_INDEX_MAX, f) : 0;
        if (text) {
            text[n] = '\0';
            index = cJSON_Parse(text);
        }
        free(text);
        fclose(f);
    }
    cJSON *reports = cJSON_GetObjectItemCaseSensitive(index, "reports");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(index, "district");
    if (!cJSON_IsArray(reports) || !cJSON_IsString(d) || strcmp(d->valuestring, district) != 0) {
        cJSON_Delete(index);
        index = cJSON_CreateObject();
        if (index && (!cJSON_AddNumberToObject(index, "v", 1)
                      || !cJSON_AddStringToObject(index, "district", district)
                      || !cJSON_AddArrayToObject(index, "reports"))) {
            cJSON_Delete(index);
            index = NULL;
        }
    }
    return index;
}

static bool web_reports_listed(const cJSON *reports, const char *week)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, reports) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "week");
        if (cJSON_IsString(w) && strcmp(w->valuestring, week) == 0)
            return true;
    }
    return false;
}

/* Inserts the entry of the week starting monday, keeping the newest first. */
static bool web_reports_list(cJSON *reports, const char *district, int64_t monday)
{
    char week[16], from[16], to[16], file[64];
    wp_isoweek_format(monday, week, sizeof week, NULL);
    wp_date_format(monday, from, sizeof from);
    wp_date_format(monday + 6, to, sizeof to);
    snprintf(file, sizeof file, "%s-%s.html", district, week);
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "week", week) || !cJSON_AddStringToObject(e, "from", from)
        || !cJSON_AddStringToObject(e, "to", to) || !cJSON_AddStringToObject(e, "file", file)) {
        cJSON_Delete(e);
        return false;
    }
    int at = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, reports) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "week");
        if (cJSON_IsString(w) && strcmp(w->valuestring, week) < 0)
            break;   /* "2022-W09" < "2022-W18": ISO week names sort as the weeks do */
        at++;
    }
    return cJSON_InsertItemInArray(reports, at, e);
}

/* The week's HTML, as `wardpulse report --format html` makes it. */
static enum wp_err web_reports_write_week(const char *dir, struct store *store,
                                          const struct plan *plan, int64_t monday,
                                          int64_t now_ms)
{
    char week[16], path[4096 + 128];
    wp_isoweek_format(monday, week, sizeof week, NULL);
    snprintf(path, sizeof path, "%s/%s-%s.html", dir, plan->district->code, week);
    struct report r;
    struct cli_buf out = {0};
    enum wp_err err = report_build(&r, store, plan, week, now_ms);
    if (err == WP_OK) {
        report_write_html(&r, &out);
        err = out.failed ? WP_ERR_NOMEM
                         : wp_file_write_whole(path, out.data, out.len, 0644, false);
    }
    if (err != WP_OK)
        wp_log(WP_LOG_ERR, "web_dir: the report of %s: %s%s%s", week,
               err == WP_ERR_DB ? store_read_error(store) : wp_strerror(err),
               err == WP_ERR_IO || err == WP_ERR_FULL ? ": " : "",
               err == WP_ERR_IO || err == WP_ERR_FULL ? path : "");
    else
        wp_log(WP_LOG_INFO, "web_dir: wrote %s", path);
    cli_buf_free(&out);
    report_free(&r);
    return err;
}

/* The first Monday to consider: the plan's reporting start, within the bound. */
static int64_t web_reports_first_monday(const struct plan *plan, int64_t last_monday)
{
    int64_t first = PLAN_DAY_NONE;
    for (size_t i = 0; i < plan->rule_count; i++) {
        const struct plan_rule *rule = &plan->rules[i];
        if (rule->kind == PLAN_RULE_SCHEDULE && rule->u.schedule.from_day != PLAN_DAY_NONE
            && (first == PLAN_DAY_NONE || wp_monday_of(rule->u.schedule.from_day) < first))
            first = wp_monday_of(rule->u.schedule.from_day);
    }
    if (first == PLAN_DAY_NONE)
        return last_monday;   /* no schedule: the last finished week only */
    /* A first after last_monday (reporting not begun) writes nothing. */
    int64_t bound = last_monday - 7 * (WEB_REPORTS_WEEKS_MAX - 1);
    return first < bound ? bound : first;
}

enum wp_err web_reports_update(const char *web_dir, struct store *store,
                               const struct plan *plan, int64_t now_ms)
{
    char dir[4096], index_path[4200];
    snprintf(dir, sizeof dir, "%s/reports", web_dir);
    snprintf(index_path, sizeof index_path, "%s/index.json", dir);
    /* Served by the broker, another user: readable by all whatever the service's umask
     * (UMask=0077 would leave a folder and files only the aggregator can read). */
    if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || chmod(dir, 0755) != 0) {
        wp_log(WP_LOG_ERR, "web_dir: %s: %s", dir, strerror(errno));
        return WP_ERR_IO;
    }
    int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
    int64_t last_monday = wp_monday_of(today) - 7;   /* the last finished week */
    cJSON *index = web_reports_read_index(index_path, plan->district->code);
    if (!index)
        return WP_ERR_NOMEM;
    cJSON *reports = cJSON_GetObjectItemCaseSensitive(index, "reports");
    enum wp_err err = WP_OK;
    bool added = false;
    for (int64_t monday = web_reports_first_monday(plan, last_monday);
         err == WP_OK && monday <= last_monday; monday += 7) {
        char week[16];
        wp_isoweek_format(monday, week, sizeof week, NULL);
        if (web_reports_listed(reports, week))
            continue;
        if ((err = web_reports_write_week(dir, store, plan, monday, now_ms)) != WP_OK)
            break;
        if (!web_reports_list(reports, plan->district->code, monday))
            err = WP_ERR_NOMEM;
        added = true;
    }
    if (added) {
        char *text = cJSON_Print(index);
        enum wp_err w = text ? wp_file_write_whole(index_path, text, strlen(text), 0644, false)
                             : WP_ERR_NOMEM;
        if (w != WP_OK)
            wp_log(WP_LOG_ERR, "web_dir: %s: %s", index_path, wp_strerror(w));
        if (err == WP_OK)
            err = w;
        free(text);
    }
    cJSON_Delete(index);
    return err;
}
