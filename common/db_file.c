/* db_file.c — identity, writability, lock and error mapping of a daemon's SQLite file
 * (contract in db_file.h). */
#include "db_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

enum wp_err wp_db_identity_take(sqlite3 *db, const char *path, struct wp_db_identity *id,
                                char *err, size_t errlen)
{
    (void)db;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WP_ERR_IO;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return WP_OK;
}

enum wp_err wp_db_identity_check(sqlite3 *db, const char *path,
                                 const struct wp_db_identity *id, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "the database file %s is gone (%s) while this process still "
                 "has it open: it was deleted or moved away", path, strerror(errno));
        return WP_ERR_REPLACED;
    }
    int moved = 0;
    if (db && sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        moved = 0;   /* a VFS without the answer: the device and inode below decide */
    if (moved || st.st_dev != id->dev || st.st_ino != id->ino) {
        snprintf(err, errlen, "the database file %s was replaced by another file (device "
                 "%llu inode %llu, opened as device %llu inode %llu) while this process had "
                 "it open", path, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                 (unsigned long long)id->dev, (unsigned long long)id->ino);
        return WP_ERR_REPLACED;
    }
    return WP_OK;
}

enum wp_err wp_db_check_writable(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        snprintf(err, errlen, "database path is too long");
        return WP_ERR_IO;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "cannot write in the database's directory %.900s (%s): SQLite "
                 "must create %.900s-wal and -shm there", dir, strerror(errno), path);
        return WP_ERR_IO;
    }
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
        snprintf(err, errlen, "the database %.900s is not writable (%s)", path,
                 strerror(errno));
        return WP_ERR_IO;
    }
    return WP_OK;
}

enum wp_err wp_db_lock(const char *path, const char *suffix, int *fd, char *err, size_t errlen)
{
    char lock_path[4200];
    *fd = -1;
    if (snprintf(lock_path, sizeof lock_path, "%s%s", path, suffix) >= (int)sizeof lock_path) {
        snprintf(err, errlen, "database path is too long");
        return WP_ERR_IO;
    }
    int f = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        snprintf(err, errlen, "cannot create the lock file %.900s: %s", lock_path,
                 strerror(errno));
        return WP_ERR_IO;
    }
    /* fcntl rather than flock: a reader can test it with F_GETLK without taking it. */
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &lock) != 0) {
        int why = errno;
        struct flock held = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long pid = fcntl(f, F_GETLK, &held) == 0 && held.l_type != F_UNLCK ? (long)held.l_pid
                                                                             : 0;
        close(f);
        if (why == EACCES || why == EAGAIN) {
            if (pid > 0)
                snprintf(err, errlen, "another process (pid %ld) already has the database "
                         "%.900s open for writing (it holds %.900s)", pid, path, lock_path);
            else
                snprintf(err, errlen, "another process already has the database %.900s open "
                         "for writing (it holds %.900s)", path, lock_path);
            return WP_ERR_CONFIG;
        }
        snprintf(err, errlen, "cannot lock %.900s: %s", lock_path, strerror(why));
        return WP_ERR_IO;
    }
    *fd = f;
    return WP_OK;
}

enum wp_err wp_db_error(sqlite3 *db, int rc)
{
    if ((rc & 0xff) == SQLITE_FULL)
        return WP_ERR_FULL;
    if ((rc & 0xff) == SQLITE_IOERR && db) {
        int sys = sqlite3_system_errno(db);
        if (sys == ENOSPC || sys == EDQUOT)
            return WP_ERR_FULL;
    }
    return WP_ERR_DB;
}
