/* What the SQLite floor programs (getuser-floor.c, invite-floor.c,
 * list-floor.c) share: reading a row as the daemon does, and the clocks. */
#ifndef MARKETPLACE_FLOOR_H
#define MARKETPLACE_FLOOR_H

#include <sqlite3.h>
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

/* Reads every column of the current row as MemberColumns does. */
static inline size_t touch(sqlite3_stmt *s) {
    size_t bytes = 0;
    int n = sqlite3_column_count(s);
    for (int i = 0; i < n; i++) {
        if (sqlite3_column_type(s, i) == SQLITE_INTEGER) {
            bytes += (size_t)sqlite3_column_int64(s, i) & 1;
        } else {
            const unsigned char *text = sqlite3_column_text(s, i);
            if (text) bytes += (size_t)sqlite3_column_bytes(s, i);
        }
    }
    return bytes;
}

/* The process's CPU time so far (user + system), in seconds. */
static inline double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* A monotonic clock, in seconds. */
static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

#endif
