/* notify.c — the sd_notify(3) protocol, spoken directly: one datagram of "KEY=value"
 * lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading '@' names an abstract
 * socket), as systemd documents it for programs that do not link libsystemd. Not linking
 * it keeps libsystemd and the compression and crypto libraries it loads (libgcrypt, lz4,
 * zstd, lzma: about 1 MB of resident pages) out of both daemons (issue 13: the agent's
 * idle RSS). The watchdog's period comes from $WATCHDOG_USEC, for this process only when
 * $WATCHDOG_PID names it, as sd_watchdog_enabled(3) reads them. */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Sends state to $NOTIFY_SOCKET; nothing without it. Errors are ignored, as systemd's
 * own callers ignore them: a daemon must run the same with or without a manager. */
static void notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path)
        return;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                                    (path[0] == '/' ? 1 : 0));
    while (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addrlen) < 0
           && errno == EINTR) {
    }
    close(fd);
}

static void notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notify_sendf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    notify_send(buf);
}

/* sd_watchdog_enabled(0, usec): > 0 with *usec set when the manager asked this process
 * for pings. */
static int watchdog_enabled(uint64_t *usec)
{
    const char *s = getenv("WATCHDOG_USEC");
    if (!s || !*s)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long u = strtoull(s, &end, 10);
    if (errno || *end || u == 0)
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && *pid) {
        errno = 0;
        long long p = strtoll(pid, &end, 10);
        if (errno || *end || p != (long long)getpid())
            return 0;
    }
    *usec = u;
    return 1;
}

static void send_with_status(const char *prefix, const char *fmt, va_list ap)
{
    char status[512];
    vsnprintf(status, sizeof status, fmt, ap);
    notify_sendf("%sSTATUS=%s", prefix, status);
}

void wp_notify_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_with_status("READY=1\n", fmt, ap);
    va_end(ap);
}

void wp_notify_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_with_status("", fmt, ap);
    va_end(ap);
}

void wp_notify_stopping(void)
{
    notify_send("STOPPING=1");
}

static bool watchdog_checked;
static int64_t watchdog_interval_ms, watchdog_last_ms;

static void watchdog_check(void)
{
    if (watchdog_checked)
        return;
    uint64_t usec = 0;
    /* > 0 when systemd (or a test) asked for pings. */
    if (watchdog_enabled(&usec) > 0)
        watchdog_interval_ms = (int64_t)(usec / 1000) / 2;
    watchdog_checked = true;
}

void wp_notify_watchdog(int64_t now_ms)
{
    watchdog_check();
    if (watchdog_interval_ms <= 0 || now_ms - watchdog_last_ms < watchdog_interval_ms)
        return;
    watchdog_last_ms = now_ms;
    notify_send("WATCHDOG=1");
}

int64_t wp_notify_watchdog_due_ms(void)
{
    watchdog_check();
    return watchdog_interval_ms > 0 ? watchdog_last_ms + watchdog_interval_ms : INT64_MAX;
}
