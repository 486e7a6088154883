/* Hashes a password with Argon2id in a loop until killed, with the daemon's
 * default limits (libsodium's interactive: 64 MiB, 2 passes): password
 * hashing that runs beside the daemon in a process of its own, for
 * `Scripts/bench --only next-door`. */
#include <sodium.h>
#include <stdio.h>

int main(void) {
    if (sodium_init() < 0) return 1;
    char out[crypto_pwhash_STRBYTES];
    for (;;) {
        if (crypto_pwhash_str(out, "bench password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
            fprintf(stderr, "argon2-loop: out of memory\n");
            return 2;
        }
    }
}
