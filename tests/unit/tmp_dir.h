/* tmp_dir.h — a unit test's temporary directory under /tmp, removed at the end with the
 * files in it (a database and its -wal, -shm and .lock, say).
 *
 *   char dir[64];
 *   if (!tmp_dir_make(dir, sizeof dir, "outbox"))   // /tmp/wardpulse-test-outbox-XXXXXX
 *       return 1;
 *   …
 *   tmp_dir_remove(dir);
 */
#ifndef WP_TEST_TMP_DIR_H
#define WP_TEST_TMP_DIR_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline bool tmp_dir_make(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/wardpulse-test-%s-XXXXXX", name);
    return mkdtemp(dir) != NULL;
}

/* Removes the files directly in dir, then dir. */
static inline void tmp_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' || (e->d_name[1] && (e->d_name[1] != '.' || e->d_name[2])))
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

#endif
