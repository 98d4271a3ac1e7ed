/* status_cmd.c — `wardpulse-agent status`: the agent as a ward clerk needs to see it.
 *
 *   Ward 00001   outbox /var/lib/wardpulse-agent/outbox.db   stream 9f1c2a7e4b5d6c3a
 *
 *     Agent daemon           running (pid 812)
 *     Link to the district   connected to district.example.vn:8883 since … (2 h 05 min)
 *     Waiting for an ack     3 report(s)
 *     Oldest unacknowledged  seq 40 for 2022-05-01, submitted 2 d 3 h ago
 *     Last acknowledgement   2022-05-03T17:04:55+07:00 (12 s ago)
 *     …
 *   Rejected by the district: …table…
 *
 * Opens the outbox read-only (never creates, migrates or writes it), so it is safe
 * beside the daemon and for a clerk's account that may only read. What the daemon knows
 * about its link it records in the outbox; whether the daemon runs at all is read from
 * its lock (a daemon killed with -9 leaves "connected" recorded).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "outbox.h"
#include "timefmt.h"

#define STATUS_REFUSED_SHOWN 10

static void status_age(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf(buf, size, "%lld s", (long long)s);
    else if (s < 3600)
        snprintf(buf, size, "%lld min %02lld s", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, size, "%lld h %02lld min", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(buf, size, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

/* "2022-05-03T17:04:55+07:00 (12 s ago)" */
static void status_when(int64_t at_ms, int64_t now_ms, const char *suffix, char *buf, size_t size)
{
    char when[40], age[32];
    wp_datetime_format_local(at_ms, when, sizeof when);
    status_age(now_ms - at_ms, age, sizeof age);
    snprintf(buf, size, "%s (%s%s)", when, age, suffix);
}

static void status_row(const char *label, const char *value)
{
    printf("  %-23s %s\n", label, value);
}

/* The pid of the running daemon, 0 if none: the daemon's lock tested, not taken. */
static long status_daemon_pid(const struct agent_config *cfg)
{
    char path[4096];
    snprintf(path, sizeof path, "%s" AGENT_DAEMON_LOCK_SUFFIX, cfg->outbox_path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = 0;
    if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK)
        pid = lock.l_pid > 0 ? (long)lock.l_pid : -1;
    close(fd);
    return pid;
}

static void status_print_link(const struct agent_config *cfg, const struct outbox_link *link,
                              int64_t now)
{
    char line[1024], when[96];
    long pid = status_daemon_pid(cfg);
    if (pid > 0)
        snprintf(line, sizeof line, "running (pid %ld)", pid);
    else
        snprintf(line, sizeof line, "%s", pid < 0 ? "running" :
                 "NOT RUNNING: nothing is delivered until it is started again");
    status_row("Agent daemon", line);

    if (!link->known) {
        status_row("Link to the district", "unknown (the daemon has not run yet)");
    } else if (pid == 0) {
        status_when(link->since, now, " ago", when, sizeof when);
        snprintf(line, sizeof line, "none; last recorded %s %s", link->connected ?
                 "connected since" : "down since", when);
        status_row("Link to the district", line);
    } else if (link->connected) {
        status_when(link->since, now, "", when, sizeof when);
        snprintf(line, sizeof line, "connected to %s since %s", link->broker, when);
        status_row("Link to the district", line);
    } else {
        status_when(link->since, now, "", when, sizeof when);
        snprintf(line, sizeof line, "NOT connected to %s since %s: %s", link->broker, when,
                 link->last_error[0] ? link->last_error : "unknown reason");
        status_row("Link to the district", line);
    }
}

static void status_print_queue(const struct outbox_summary *s, const struct outbox_link *link,
                               int64_t now)
{
    char line[600], when[96], age[32];
    snprintf(line, sizeof line, s->queued == 0 ? "none, every report was acknowledged"
                                               : "%lld report(s)", (long long)s->queued);
    status_row("Waiting for an ack", line);
    if (s->queued > 0) {
        status_age(now - s->oldest_created_at, age, sizeof age);
        snprintf(line, sizeof line, "seq %lld for %s, submitted %s ago", (long long)s->oldest_seq,
                 s->oldest_period, age);
        status_row("Oldest unacknowledged", line);
    }
    if (link->last_ack_at > 0) {
        status_when(link->last_ack_at, now, " ago", when, sizeof when);
        status_row("Last acknowledgement", when);
    } else {
        status_row("Last acknowledgement", "none yet");
    }
    if (s->last_sent_at > 0) {
        status_when(s->last_sent_at, now, " ago", when, sizeof when);
        status_row("Last sent to the broker", when);
    }
    snprintf(line, sizeof line, "%lld report(s) since this outbox was created",
             (long long)(s->next_seq - 1));
    status_row("Submitted", line);
}

/* The first problem of rejected/<name>.error, for a one-line summary. */
static void status_first_problem(const char *error_path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(error_path, "r");
    if (!f)
        return;
    char line[512];
    bool blank_seen = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0') {
            blank_seen = true;
        } else if (blank_seen) {
            snprintf(buf, size, "%s", line); /* problems follow the blank line */
            break;
        }
    }
    fclose(f);
}

static int status_by_name_desc(const struct dirent **a, const struct dirent **b)
{
    return -alphasort(a, b);
}

static int status_is_error_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 6 && strcmp(d->d_name + n - 6, ".error") == 0;
}

static int status_is_waiting(const struct dirent *d)
{
    return d->d_type != DT_DIR && d->d_name[0] != '.';
}

static void status_print_spool(const struct agent_config *cfg)
{
    if (!cfg->spool_dir)
        return;
    char line[800], path[4096];
    struct dirent **names = NULL;
    int waiting = scandir(cfg->spool_dir, &names, status_is_waiting, NULL);
    for (int i = 0; i < waiting; i++)
        free(names[i]);
    free(names);
    snprintf(path, sizeof path, "%s/rejected", cfg->spool_dir);
    names = NULL;
    int refused = scandir(path, &names, status_is_error_file, status_by_name_desc);
    if (waiting < 0)
        snprintf(line, sizeof line, "%s: %s", cfg->spool_dir, strerror(errno));
    else
        snprintf(line, sizeof line, "%d file(s) waiting in %s; %d refused", waiting,
                 cfg->spool_dir, refused > 0 ? refused : 0);
    status_row("Spool folder", line);
    for (int i = 0; i < refused; i++) {
        if (i < STATUS_REFUSED_SHOWN) {
            char problem[512], error_path[4400];
            snprintf(error_path, sizeof error_path, "%s/%s", path, names[i]->d_name);
            status_first_problem(error_path, problem, sizeof problem);
            printf("    rejected/%.*s: %s\n", (int)(strlen(names[i]->d_name) - 6),
                   names[i]->d_name, problem);
        } else if (i == STATUS_REFUSED_SHOWN) {
            printf("    … and %d more in %s\n", refused - STATUS_REFUSED_SHOWN, path);
        }
        free(names[i]);
    }
    free(names);
}

static void status_print_dead(void *ctx, int64_t seq, const char *period, const char *reason,
                              int64_t rejected_at)
{
    (void)ctx;
    char when[40];
    wp_datetime_format_local(rejected_at, when, sizeof when);
    printf("  %-6lld %-11s %-26s %s\n", (long long)seq, period, when, reason);
}

int status_command(const struct agent_config *cfg, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "status: takes no arguments\n");
        return 2;
    }
    char err[1024];
    struct outbox *ob = NULL;
    enum wp_err e = outbox_open(&ob, cfg->outbox_path, cfg->ward, OUTBOX_READONLY, err,
                                sizeof err);
    if (e == WP_ERR_NOT_FOUND) {
        printf("Ward %s: %s\n", cfg->ward, err);
        return 0;
    }
    if (e != WP_OK) {
        fprintf(stderr, "status: %s\n", err);
        return 1;
    }
    int status = 1;
    struct outbox_summary s;
    struct outbox_link link;
    if (outbox_summarize(ob, &s) != WP_OK || outbox_link_read(ob, &link) != WP_OK)
        goto cleanup;

    int64_t now = wp_now_ms();
    printf("Ward %s   outbox %s   stream %s\n\n", cfg->ward, outbox_path(ob), outbox_stream(ob));
    status_print_link(cfg, &link, now);
    status_print_queue(&s, &link, now);
    status_print_spool(cfg);
    printf("\n");
    if (s.dead_count == 0) {
        printf("Rejected by the district: none\n");
    } else {
        printf("Rejected by the district: %lld report(s); they are not sent again, correct "
               "and submit them anew:\n",
               (long long)s.dead_count);
        printf("  %-6s %-11s %-26s %s\n", "SEQ", "PERIOD", "REJECTED AT", "REASON");
        if (outbox_each_dead_letter(ob, status_print_dead, NULL) != WP_OK)
            goto cleanup;
    }
    status = 0;

cleanup:
    outbox_close(&ob);
    return status;
}
