/* The SQLite part of a durable invite with nothing else: the statements the
 * daemon's writer runs for one invite of a new person (the account, group and
 * email look-ups; the user, the membership, its group link, the invitation,
 * the outbox message and the audit event, with every index and trigger of the
 * file), each invite in its own savepoint, BATCH of them in one
 * BEGIN IMMEDIATE ... COMMIT, with the daemon's settings (WAL,
 * synchronous=FULL, foreign keys on, temp_store=MEMORY, SQLite's default
 * 2 MiB cache and automatic checkpoint at 1,000 pages), on one thread as the
 * daemon's writer. Prints the invites per second, the CPU time per invite
 * (user + system of the whole process, the kernel's file work included) and
 * the log frames written per invite: the floor under the daemon's invite
 * (`Scripts/bench`, cells "invite's SQLite writes alone").
 *
 * Runs on the file it is given: give it a copy (it adds members).
 *
 * usage: invite-floor DATABASE ACCOUNTS BATCH SECONDS [PRAGMAS]
 * (PRAGMAS, e.g. "PRAGMA cache_size = -32768": settings other than the
 * daemon's, to compare). */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

static sqlite3 *db;
static long frames, last_frames;

static void fail(const char *what) {
    fprintf(stderr, "invite-floor: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

/* SQLite's own automatic checkpoint (a passive checkpoint once the log holds
 * 1,000 frames after a commit), counting the frames each commit appends. */
static int wal_hook(void *unused, sqlite3 *connection, const char *name, int n) {
    (void)unused;
    frames += n >= last_frames ? n - last_frames : n;
    last_frames = n;
    if (n >= 1000) sqlite3_wal_checkpoint(connection, name);
    return SQLITE_OK;
}

/* The daemon's trigger function (it notes new members for its in-memory
 * search); here it does nothing. */
static void note(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    (void)argv;
    sqlite3_result_null(context);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) fail(sql);
    return s;
}

/* Steps `s` to its end; returns its last result code. */
static int run(sqlite3_stmt *s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {}
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static void must(sqlite3_stmt *s, const char *what) {
    if (run(s) != SQLITE_DONE) fail(what);
}

static void random_bytes(unsigned char *out, size_t n, unsigned *seed) {
    for (size_t i = 0; i < n; i++) out[i] = (unsigned char)rand_r(seed);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: invite-floor DATABASE ACCOUNTS BATCH SECONDS [PRAGMAS]\n");
        return 2;
    }
    int accounts = atoi(argv[2]), batch = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (accounts < 1 || batch < 1 || seconds <= 0) return 2;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) fail("open");
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                         "PRAGMA temp_store = MEMORY", NULL, NULL, NULL) != SQLITE_OK)
        fail("settings");
    if (argc == 6 && sqlite3_exec(db, argv[5], NULL, NULL, NULL) != SQLITE_OK) fail(argv[5]);
    sqlite3_create_function(db, "marketplace_member_search_note", 5, SQLITE_UTF8, NULL, note, NULL, NULL);
    sqlite3_wal_hook(db, wal_hook, NULL);

    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE TRANSACTION"), *commit = prepare("COMMIT TRANSACTION"),
                 *savepoint = prepare("SAVEPOINT grdb"), *release = prepare("RELEASE SAVEPOINT grdb"),
                 *account = prepare("SELECT * FROM accounts WHERE id = ?"),
                 *group = prepare("SELECT * FROM groups WHERE id IN (?)"),
                 *by_email = prepare(
                     "SELECT id, first_name, last_name, email, phone, language, locale, icon, status, password_hash, "
                     "created_at, updated_at, last_sign_in_at, blocked_at FROM users WHERE email = ?"),
                 *user = prepare(
                     "INSERT INTO users (id, first_name, last_name, email, phone, language, locale, icon, status, "
                     "password_hash, created_at, updated_at, last_sign_in_at, blocked_at) "
                     "VALUES (?, 'Bench', 'Invitee', ?, NULL, 'en', 'en-US', '', 'active', NULL, ?, ?, NULL, NULL)"),
                 *member = prepare(
                     "INSERT INTO account_users (id, account_id, user_id, status, invited_at, joined_at, "
                     "last_access_at, blocked_at, invitation_expires_at, invited_by, sort_name, sort_email, "
                     "sort_joined, sort_last_sign_in, invited_first_name, invited_last_name, invited_phone) "
                     "VALUES (?, ?, ?, 'invited', ?, NULL, NULL, NULL, ?, 'operator', 'inviteebench', ?, "
                     "9223372036854775807, 9223372036854775807, 'Bench', 'Invitee', NULL)"),
                 *clear_groups = prepare("DELETE FROM account_user_groups WHERE account_user_id = ?"),
                 *link = prepare("INSERT INTO account_user_groups (account_user_id, group_id) VALUES (?, ?)"),
                 *invitation = prepare(
                     "INSERT INTO invitations (token_hash, sealed_token, account_user_id, created_at, expires_at, "
                     "state, ended_at, inviter_name) VALUES (?, ?, ?, ?, ?, 'pending', NULL, 'the platform operators')"),
                 *outbox = prepare(
                     "INSERT INTO outbox (kind, recipient, subject, body, sealed_token, account_user_id, created_at, "
                     "sent_at) VALUES ('invitation', ?, ?, ?, ?, ?, ?, NULL)"),
                 *audit = prepare(
                     "INSERT INTO audit_events (account_id, at, actor, action, target_id, details) "
                     "VALUES (?, ?, 'operator:0', 'account_user.invited', ?, ?)");

    unsigned seed = (unsigned)getpid() * 2654435761u;
    long invites = 0, retries = 0, serial = 0;
    double start = now(), cpu0 = cpu_seconds(), deadline = start + seconds;
    while (now() < deadline) {
        must(begin, "begin");
        for (int b = 0; b < batch; b++) {
            char account_id[32], group_id[32], user_id[32], member_id[32], email[96], subject[128], body[512],
                details[128];
            unsigned char token_hash[32], sealed[72];
            int n = 1 + (int)(rand_r(&seed) % (unsigned)accounts);
            snprintf(account_id, sizeof account_id, "ACC-0000-%04d", n);
            snprintf(group_id, sizeof group_id, "UGR-0000-%04d", n);
            snprintf(email, sizeof email, "cfloor%ux%ldc0n%d@example.com", seed % 100000u, serial++, b);
            long long at = (long long)time(NULL) * 1000, expires = at + 7LL * 86400000;
            snprintf(subject, sizeof subject, "You are invited to join Bench Account %d on the Marketplace Platform", n);
            snprintf(body, sizeof body,
                     "Hello,\n\nThe platform operators invited you to join Bench Account %d on the Marketplace "
                     "Platform.\n\nTo accept or decline, open this link:\n{{invitation_link}}\n\nThe link is valid "
                     "until 2026-12-10T21:32:48Z.", n);
            random_bytes(token_hash, sizeof token_hash, &seed);
            random_bytes(sealed, sizeof sealed, &seed);
            must(savepoint, "savepoint");
            sqlite3_bind_text(account, 1, account_id, -1, SQLITE_STATIC);
            if (run(account) != SQLITE_DONE) fail("account");
            sqlite3_bind_text(group, 1, group_id, -1, SQLITE_STATIC);
            if (run(group) != SQLITE_DONE) fail("group");
            sqlite3_bind_text(by_email, 1, email, -1, SQLITE_STATIC);
            if (run(by_email) != SQLITE_DONE) fail("by email");
            /* New ids are random digits, as the daemon makes them; a taken one
             * is drawn again (the daemon retries the same way). */
            for (;;) {
                snprintf(user_id, sizeof user_id, "USR-%04u-%04u", rand_r(&seed) % 10000u, rand_r(&seed) % 10000u);
                sqlite3_bind_text(user, 1, user_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(user, 2, email, -1, SQLITE_STATIC);
                sqlite3_bind_int64(user, 3, at);
                sqlite3_bind_int64(user, 4, at);
                if (run(user) == SQLITE_DONE) break;
                retries++;
            }
            for (;;) {
                snprintf(member_id, sizeof member_id, "AUSR-%04u-%04u-%04u", rand_r(&seed) % 10000u,
                         rand_r(&seed) % 10000u, rand_r(&seed) % 10000u);
                sqlite3_bind_text(member, 1, member_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(member, 2, account_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(member, 3, user_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(member, 4, at);
                sqlite3_bind_int64(member, 5, expires);
                sqlite3_bind_text(member, 6, email, -1, SQLITE_STATIC);
                if (run(member) == SQLITE_DONE) break;
                retries++;
            }
            sqlite3_bind_text(clear_groups, 1, member_id, -1, SQLITE_STATIC);
            must(clear_groups, "clear groups");
            sqlite3_bind_text(link, 1, member_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(link, 2, group_id, -1, SQLITE_STATIC);
            must(link, "group link");
            sqlite3_bind_blob(invitation, 1, token_hash, sizeof token_hash, SQLITE_STATIC);
            sqlite3_bind_blob(invitation, 2, sealed, sizeof sealed, SQLITE_STATIC);
            sqlite3_bind_text(invitation, 3, member_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(invitation, 4, at);
            sqlite3_bind_int64(invitation, 5, expires);
            must(invitation, "invitation");
            sqlite3_bind_text(outbox, 1, email, -1, SQLITE_STATIC);
            sqlite3_bind_text(outbox, 2, subject, -1, SQLITE_STATIC);
            sqlite3_bind_text(outbox, 3, body, -1, SQLITE_STATIC);
            sqlite3_bind_blob(outbox, 4, sealed, sizeof sealed, SQLITE_STATIC);
            sqlite3_bind_text(outbox, 5, member_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(outbox, 6, at);
            must(outbox, "outbox");
            snprintf(details, sizeof details, "user=%s groups=%s", user_id, group_id);
            sqlite3_bind_text(audit, 1, account_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(audit, 2, at);
            sqlite3_bind_text(audit, 3, member_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(audit, 4, details, -1, SQLITE_STATIC);
            must(audit, "audit");
            must(release, "release");
            invites++;
        }
        must(commit, "commit");
    }
    double wall = now() - start, cpu = cpu_seconds() - cpu0;
    printf("{\"batch\":%d,\"calls\":%ld,\"retries\":%ld,\"seconds\":%.3f,\"rate\":%.1f,\"cpu_us_per_call\":%.2f,"
           "\"frames_per_call\":%.2f}\n",
           batch, invites, retries, wall, invites / wall, cpu * 1e6 / (invites ? invites : 1),
           (double)frames / (invites ? invites : 1));
    return 0;
}
