/*
 * The floor: plain request/response ping-pong over Unix stream sockets, with
 * the frame sizes of a ttrpc Health/Check call (request and response bytes as
 * on the wire), no framing logic, no allocation, blocking read/write.
 *
 *   pingpong PAIRS SECONDS REQ_BYTES RESP_BYTES
 *
 * PAIRS client/server process pairs (one socketpair each) run concurrently for
 * SECONDS after a short warm-up. Prints one JSON line: total round trips/s and
 * p50/p99/p99.9 of the client-side round trip in microseconds. Pin with
 * `taskset -c 0 pingpong ...` (children inherit the affinity).
 * Built by Scripts/bench with `cc -O2`.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 21)

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int full_io(int fd, char *buf, size_t n, int writing) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = writing ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: pingpong PAIRS SECONDS REQ_BYTES RESP_BYTES\n");
        return 64;
    }
    int pairs = atoi(argv[1]);
    double seconds = atof(argv[2]);
    size_t req = (size_t)atoi(argv[3]), resp = (size_t)atoi(argv[4]);
    if (pairs < 1 || pairs > 256 || req < 1 || resp < 1 || req > 65536 || resp > 65536) return 64;
    size_t per = MAX_SAMPLES / (size_t)pairs;
    /* Shared with the children: per-pair sample counts, then samples. */
    uint64_t *counts = mmap(NULL, sizeof(uint64_t) * (size_t)pairs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t *samples = mmap(NULL, sizeof(uint64_t) * MAX_SAMPLES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED || samples == MAP_FAILED) return 1;
    uint64_t start = now_ns() + 300000000ull; /* warm-up 0.3 s */
    uint64_t end = start + (uint64_t)(seconds * 1e9);
    pid_t *servers = calloc((size_t)pairs, sizeof(pid_t));
    pid_t *clients = calloc((size_t)pairs, sizeof(pid_t));
    for (int p = 0; p < pairs; p++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
        if ((servers[p] = fork()) == 0) {
            close(sv[0]);
            char buf[65536];
            memset(buf, 'r', sizeof buf);
            for (;;) {
                if (full_io(sv[1], buf, req, 0) != 0) _exit(0);
                if (full_io(sv[1], buf, resp, 1) != 0) _exit(0);
            }
        }
        if ((clients[p] = fork()) == 0) {
            close(sv[1]);
            char buf[65536];
            memset(buf, 'q', sizeof buf);
            uint64_t *mine = samples + (size_t)p * per, n = 0;
            for (;;) {
                uint64_t t0 = now_ns();
                if (t0 >= end) break;
                if (full_io(sv[0], buf, req, 1) != 0) _exit(1);
                if (full_io(sv[0], buf, resp, 0) != 0) _exit(1);
                uint64_t t1 = now_ns();
                if (t0 >= start && n < per) mine[n++] = t1 - t0;
            }
            counts[p] = n;
            _exit(0);
        }
        close(sv[0]);
        close(sv[1]);
    }
    for (int p = 0; p < pairs; p++) waitpid(clients[p], NULL, 0);
    for (int p = 0; p < pairs; p++) {
        kill(servers[p], SIGTERM);
        waitpid(servers[p], NULL, 0);
    }
    size_t total = 0;
    for (int p = 0; p < pairs; p++) {
        memmove(samples + total, samples + (size_t)p * per, counts[p] * sizeof(uint64_t));
        total += counts[p];
    }
    qsort(samples, total, sizeof(uint64_t), cmp);
#define PCT(q) (total ? (double)samples[(size_t)((double)total * (q) + 0.999999) - 1 < total ? (size_t)((double)total * (q) + 0.999999) - 1 : total - 1] / 1000.0 : 0.0)
    printf("{\"scenario\":\"c-floor\",\"callers\":%d,\"connections\":%d,\"calls\":%zu,\"errors\":0,\"seconds\":%.3f,"
           "\"rate\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"last_error\":\"\"}\n",
           pairs, pairs, total, seconds, (double)total / seconds, PCT(0.5), PCT(0.99), PCT(0.999));
    return 0;
}
