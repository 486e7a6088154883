/* The SQLite part of a get account user with nothing else: the reader's two
 * statements (the membership with its user, then its groups), prepared once,
 * inside BEGIN DEFERRED ... COMMIT, on random seeded memberships, every
 * column read as the daemon reads it, on read-only connections with the
 * daemon's settings (WAL, SQLite's default 2 MiB cache, no mmap), one thread
 * per connection. Prints the CPU time per read (user + system, the whole
 * process) and the reads per second: the floor under the daemon's server CPU
 * per get account user (`Scripts/bench`, cells "get account user's SQLite
 * reads alone").
 *
 * usage: getuser-floor DATABASE MEMBERSHIPS THREADS SECONDS [CACHE_KIB [MMAP_BYTES]]
 * (CACHE_KIB 0 and MMAP_BYTES 0: the daemon's settings; others to compare). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "floor.h"

static const char *member_sql =
    "SELECT au.id, au.account_id, au.user_id, au.status, au.invited_at, au.joined_at, au.last_access_at, "
    "au.blocked_at, au.invitation_expires_at, au.invited_by, "
    "u.first_name, u.last_name, u.email, u.status AS user_status, u.last_sign_in_at, "
    "u.phone, u.language, u.locale, u.icon, u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.blocked_at, "
    "au.invited_first_name, au.invited_last_name, au.invited_phone "
    "FROM account_users au JOIN users u ON u.id = au.user_id WHERE au.id = ?";
static const char *groups_sql =
    "SELECT g.id, g.name FROM account_user_groups aug JOIN groups g ON g.id = aug.group_id "
    "WHERE aug.account_user_id = ? ORDER BY g.name, g.id";

static const char *path;
static int memberships;
static double seconds;
static volatile int stop;
static long cache_kib, mmap_bytes;

struct worker {
    pthread_t thread;
    unsigned seed;
    long reads;
    long found;
};

static void fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "getuser-floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static void *run(void *arg) {
    struct worker *w = arg;
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) fail(db, "open");
    sqlite3_busy_timeout(db, 5000);
    char pragma[96];
    if (cache_kib > 0) {
        snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%ld", cache_kib);
        if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) fail(db, "cache_size");
    }
    if (mmap_bytes > 0) {
        snprintf(pragma, sizeof pragma, "PRAGMA mmap_size = %ld", mmap_bytes);
        if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) fail(db, "mmap_size");
    }
    sqlite3_stmt *begin, *commit, *member, *groups;
    if (sqlite3_prepare_v3(db, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, member_sql, -1, SQLITE_PREPARE_PERSISTENT, &member, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, groups_sql, -1, SQLITE_PREPARE_PERSISTENT, &groups, NULL) != SQLITE_OK)
        fail(db, "prepare");
    char id[32];
    size_t sink = 0;
    while (!stop) {
        int n = 1 + (int)(rand_r(&w->seed) % (unsigned)memberships);
        snprintf(id, sizeof id, "AUSR-0000-%04d-%04d", n / 10000, n % 10000);
        if (sqlite3_step(begin) != SQLITE_DONE) fail(db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_text(member, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(member) == SQLITE_ROW) {
            sink += touch(member);
            w->found++;
            sqlite3_bind_text(groups, 1, id, -1, SQLITE_TRANSIENT);
            while (sqlite3_step(groups) == SQLITE_ROW) sink += touch(groups);
            sqlite3_reset(groups);
        }
        sqlite3_reset(member);
        if (sqlite3_step(commit) != SQLITE_DONE) fail(db, "commit");
        sqlite3_reset(commit);
        w->reads++;
    }
    if (sink == 42) fputc(' ', stderr);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(member);
    sqlite3_finalize(groups);
    sqlite3_close(db);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: getuser-floor DATABASE MEMBERSHIPS THREADS SECONDS [CACHE_KIB [MMAP_BYTES]]\n");
        return 2;
    }
    cache_kib = argc > 5 ? atol(argv[5]) : 0;
    mmap_bytes = argc > 6 ? atol(argv[6]) : 0;
    path = argv[1];
    memberships = atoi(argv[2]);
    int threads = atoi(argv[3]);
    seconds = atof(argv[4]);
    if (memberships < 1 || threads < 1 || threads > 64 || seconds <= 0) return 2;
    struct worker workers[64];
    memset(workers, 0, sizeof workers);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    double cpu0 = cpu_seconds();
    for (int i = 0; i < threads; i++) {
        workers[i].seed = 7919u * (unsigned)(i + 1);
        pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    }
    struct timespec pause = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&pause, NULL);
    stop = 1;
    long reads = 0, found = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        reads += workers[i].reads;
        found += workers[i].found;
    }
    double cpu = cpu_seconds() - cpu0;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("{\"cache_kib\":%ld,\"mmap_bytes\":%ld,\"threads\":%d,\"calls\":%ld,\"found\":%ld,\"seconds\":%.3f,\"rate\":%.1f,\"cpu_us_per_call\":%.2f}\n", cache_kib, mmap_bytes, threads, reads,
           found, wall, reads / wall, cpu * 1e6 / (reads ? reads : 1));
    return found == reads ? 0 : 1;
}
