/* The SQLite part of a member listing page with a text query, with nothing
 * else: the statements the daemon runs for a page of 50 from an account's
 * in-memory candidates (MemberSearch), prepared once, inside BEGIN DEFERRED
 * ... COMMIT, on one read-only connection with the daemon's settings (WAL,
 * SQLite's default 2 MiB cache, no mmap), every column read as the daemon
 * reads it. Prints the CPU time per page (user + system) and pages per
 * second: the floor under the daemon's server CPU per page
 * (`Scripts/bench --only list`, cells "list page's SQLite reads alone").
 *
 * Candidates: for each text of the bench's list load (mar ada kow ri sil),
 * the account's active memberships whose id, user id, name key or email key
 * contains it, in name order (found once, before measuring, as the daemon's
 * index finds them); each page takes a text at random and reads:
 *
 * - STYLE 1 (the daemon since change 26): the first 71 candidates as the
 *   outer loop of a CROSS JOIN (json_each), rows in their order, stopping at
 *   the 50th kept row; then the page's group links in one select and each
 *   group's name once;
 * - STYLE 0 (before change 26): the same 71 candidates through
 *   `au.id IN (SELECT value FROM json_each(?))` with an ORDER BY (a sort of
 *   the whole batch), then the groups joined and sorted with an IN list.
 *
 * usage: list-floor DATABASE ACCOUNT SECONDS [STYLE] */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "floor.h"

#define COLUMNS                                                                                            \
    "au.id, au.account_id, au.user_id, au.status, au.invited_at, au.joined_at, au.last_access_at, "      \
    "au.blocked_at, au.invitation_expires_at, au.invited_by, "                                             \
    "u.first_name, u.last_name, u.email, u.status AS user_status, u.last_sign_in_at, "                   \
    "u.phone, u.language, u.locale, u.icon, u.password_hash IS NOT NULL, u.created_at, u.updated_at, "   \
    "u.blocked_at, au.invited_first_name, au.invited_last_name, au.invited_phone, au.sort_name"

enum { PAGE = 50, BATCH = PAGE + 1 + (PAGE + 1) / 4 + 8, TEXTS = 5, MAX_CANDIDATES = 4096 };
static const char *texts[TEXTS] = {"mar", "ada", "kow", "ri", "sil"};
static char *candidates[TEXTS][MAX_CANDIDATES];
static int counts[TEXTS];

static void fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "list-floor: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL) != SQLITE_OK) fail(db, sql);
    return statement;
}

/* The first `count` ids of `ids` as a JSON array (ids need no escaping). */
static const char *json_array(char **ids, int count) {
    static char json[MAX_CANDIDATES * 40];
    char *end = json;
    *end++ = '[';
    for (int i = 0; i < count; i++) end += sprintf(end, "%s\"%s\"", i ? "," : "", ids[i]);
    *end++ = ']';
    *end = 0;
    return json;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: list-floor DATABASE ACCOUNT SECONDS [STYLE]\n");
        return 2;
    }
    const char *account = argv[2];
    double seconds = atof(argv[3]);
    int style = argc > 4 ? atoi(argv[4]) : 1;
    if (seconds <= 0 || (style != 0 && style != 1)) return 2;
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) fail(db, "open");
    sqlite3_busy_timeout(db, 5000);

    sqlite3_stmt *find = prepare(db,
        "SELECT id FROM account_users WHERE account_id = ?1 AND status = 'active' AND (instr(lower(id), ?2) > 0 "
        "OR instr(lower(user_id), ?2) > 0 OR instr(sort_name, ?2) > 0 OR instr(sort_email, ?2) > 0) "
        "ORDER BY sort_name, id LIMIT 4096");
    for (int t = 0; t < TEXTS; t++) {
        sqlite3_bind_text(find, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(find, 2, texts[t], -1, SQLITE_STATIC);
        while (sqlite3_step(find) == SQLITE_ROW && counts[t] < MAX_CANDIDATES)
            candidates[t][counts[t]++] = strdup((const char *)sqlite3_column_text(find, 0));
        sqlite3_reset(find);
        if (counts[t] < PAGE + 1) {
            fprintf(stderr, "list-floor: %s has %d active members matching \"%s\"; a page needs %d\n", account, counts[t],
                    texts[t], PAGE + 1);
            return 1;
        }
    }
    sqlite3_finalize(find);

    sqlite3_stmt *begin = prepare(db, "BEGIN DEFERRED"), *commit = prepare(db, "COMMIT");
    sqlite3_stmt *rows, *links = NULL, *names = NULL, *groups[PAGE + 2] = {0};
    if (style == 1) {
        rows = prepare(db, "SELECT " COLUMNS ", c.key FROM json_each(?) c CROSS JOIN account_users au ON au.id = c.value "
                           "CROSS JOIN users u ON u.id = au.user_id WHERE +au.account_id = ? AND au.status = 'active'");
        links = prepare(db, "SELECT c.key, aug.group_id FROM json_each(?) c "
                            "CROSS JOIN account_user_groups aug ON aug.account_user_id = c.value");
        names = prepare(db, "SELECT name FROM groups WHERE id = ?");
    } else {
        rows = prepare(db, "SELECT " COLUMNS " FROM account_users au JOIN users u ON u.id = au.user_id "
                           "WHERE au.id IN (SELECT value FROM json_each(?)) AND +au.account_id = ? AND au.status = 'active' "
                           "ORDER BY au.sort_name, au.id");
    }
    static char ids[PAGE + 1][64];
    char *kept[PAGE + 1];
    for (int i = 0; i <= PAGE; i++) kept[i] = ids[i];
    size_t sink = 0;
    long pages = 0;
    unsigned seed = 7919;
    double cpu0 = cpu_seconds(), start = now(), end = start;
    while (end - start < seconds) {
        int t = (int)(rand_r(&seed) % TEXTS), count = 0;
        if (sqlite3_step(begin) != SQLITE_DONE) fail(db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_text(rows, 1, json_array(candidates[t], BATCH), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(rows, 2, account, -1, SQLITE_STATIC);
        while (count < PAGE + 1 && sqlite3_step(rows) == SQLITE_ROW) {
            sink += touch(rows);
            snprintf(ids[count++], sizeof ids[0], "%s", (const char *)sqlite3_column_text(rows, 0));
        }
        sqlite3_reset(rows);
        if (style == 1) {
            /* Group names read once per page, as the daemon does. */
            char seen[8][64];
            int distinct = 0;
            sqlite3_bind_text(links, 1, json_array(kept, count), -1, SQLITE_TRANSIENT);
            while (sqlite3_step(links) == SQLITE_ROW) {
                const char *group = (const char *)sqlite3_column_text(links, 1);
                int known = 0;
                for (int i = 0; i < distinct; i++) known |= strcmp(seen[i], group) == 0;
                if (!known && distinct < 8 && strlen(group) < 64) {
                    strcpy(seen[distinct++], group);
                    sqlite3_bind_text(names, 1, group, -1, SQLITE_TRANSIENT);
                    if (sqlite3_step(names) == SQLITE_ROW) sink += touch(names);
                    sqlite3_reset(names);
                }
                sink += touch(links);
            }
            sqlite3_reset(links);
        } else {
            if (!groups[count]) {
                char sql[1024], *at = sql;
                at += sprintf(at, "SELECT aug.account_user_id, g.id, g.name FROM account_user_groups aug "
                                  "JOIN groups g ON g.id = aug.group_id WHERE aug.account_user_id IN (");
                for (int i = 0; i < count; i++) at += sprintf(at, "%s?", i ? "," : "");
                sprintf(at, ") ORDER BY g.name, g.id");
                groups[count] = prepare(db, sql);
            }
            for (int i = 0; i < count; i++) sqlite3_bind_text(groups[count], i + 1, kept[i], -1, SQLITE_STATIC);
            while (sqlite3_step(groups[count]) == SQLITE_ROW) sink += touch(groups[count]);
            sqlite3_reset(groups[count]);
        }
        if (sqlite3_step(commit) != SQLITE_DONE) fail(db, "commit");
        sqlite3_reset(commit);
        pages++;
        end = now();
    }
    double cpu = cpu_seconds() - cpu0;
    if (sink == 42) fputc(' ', stderr);
    printf("{\"style\":%d,\"calls\":%ld,\"seconds\":%.3f,\"rate\":%.1f,\"cpu_us_per_call\":%.2f}\n", style, pages, end - start,
           pages / (end - start), cpu * 1e6 / (pages ? pages : 1));
    return 0;
}
