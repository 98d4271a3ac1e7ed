/* file.c — whole files: read without blocking on a FIFO, written complete or not at all
 * (contract in file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "is a directory, not a file";
    if (S_ISFIFO(mode))
        return "is a FIFO, not a file";
    if (S_ISSOCK(mode))
        return "is a socket, not a file";
    if (S_ISBLK(mode))
        return "is a block device, not a file";
    return NULL;   /* a regular file, or a character device such as /dev/null */
}

FILE *wp_file_open(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    const char *kind = NULL;
    if (fstat(fd, &st) != 0 || (kind = file_kind(st.st_mode)) != NULL) {
        *why = kind ? kind : strerror(errno);
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || !(f = fdopen(fd, "rb"))) {
        *why = strerror(errno);
        close(fd);
        return NULL;
    }
    return f;
}

int wp_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static bool file_write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0) {
            errno = EIO;
            return false;
        }
        text += n;
        len -= (size_t)n;
    }
    return true;
}

enum wp_err wp_file_write_whole(const char *path, const char *text, size_t len, mode_t mode,
                                bool umask_applies)
{
    char tmp[4200], dir[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return WP_ERR_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        goto failed;
    if (!umask_applies && fchmod(fd, mode) != 0)
        goto failed;
    if (!file_write_all(fd, text, len) || fsync(fd) != 0)
        goto failed;
    int closed = close(fd);
    fd = -1;
    if (closed != 0 || rename(tmp, path) != 0)
        goto failed;
    snprintf(dir, sizeof dir, "%s", path);
    const char *parent = dirname(dir);
    if (wp_dir_sync(parent) != 0)
        wp_log(WP_LOG_WARNING, "fsync of %s: %s", parent, strerror(errno));
    return WP_OK;

failed:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return saved == ENOSPC || saved == EDQUOT ? WP_ERR_FULL : WP_ERR_IO;
}
