/* libFuzzer harness: what a rank reads from its peers' modex blobs.
 *
 * The first input byte picks the decoder:
 * - even: btl/base's blob of fixed-size entries (ofi, uct, verbs), with
 *   the entry size from the second byte; every entry it returns is read
 *   whole (the blob is copied to a buffer of exactly its length, so a read
 *   past it is a sanitizer report);
 * - odd: btl/tcp's pairing of two ranks' published modules and routing
 *   tables (addresses, ports, interface indices, prefix lengths), which
 *   must come out as a matching: lo's i pairs with hi's j exactly when hi's
 *   j pairs with lo's i, and no module is taken twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_tcp.h"
#include "mrail/btl.h"

static void fail_check(const char *what)
{
    fprintf(stderr, "fuzz_modex: %s\n", what);
    abort();
}

static void entries(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    size_t entry_size = data[0];
    char *blob = malloc(size - 1 ? size - 1 : 1);
    memcpy(blob, data + 1, size - 1);
    uint32_t count;
    const unsigned char *e = mrail_btl_modex_entries(blob, size - 1, entry_size, &count);
    if ((e == NULL) != (count == 0) && e == NULL) {
        fail_check("entries without a blob");
    }
    unsigned sum = 0;
    for (size_t i = 0; e != NULL && i < (size_t)count * entry_size; i++) {
        sum += e[i];
    }
    free(blob);
    (void)sum;
}

/* One rank's side from the input: module count, modules, route count, routes. */
static size_t side_from(const uint8_t *data, size_t size, btl_tcp_modex_t *mods,
                        mrail_route_t *routes, btl_tcp_side_t *side)
{
    size_t at = 0;
    uint32_t nmods = size > at ? data[at++] % (BTL_TCP_MAX_IFS + 1) : 0;
    size_t have = (size - at) / sizeof(*mods);
    side->nmods = nmods < have ? nmods : (uint32_t)have;
    memcpy(mods, data + at, side->nmods * sizeof(*mods));
    at += side->nmods * sizeof(*mods);
    uint32_t nroutes = size > at ? data[at++] % 64 : 0;
    have = (size - at) / sizeof(*routes);
    side->nroutes = nroutes < have ? nroutes : (uint32_t)have;
    memcpy(routes, data + at, side->nroutes * sizeof(*routes));
    at += side->nroutes * sizeof(*routes);
    side->mods = mods;
    side->routes = routes;
    return at;
}

static void pairing(const uint8_t *data, size_t size)
{
    static btl_tcp_modex_t mods[2][BTL_TCP_MAX_IFS];
    static mrail_route_t routes[2][64];
    btl_tcp_side_t lo, hi;
    size_t used = side_from(data, size, mods[0], routes[0], &lo);
    side_from(data + used, size - used, mods[1], routes[1], &hi);
    int lo_to_hi[BTL_TCP_MAX_IFS], hi_to_lo[BTL_TCP_MAX_IFS];
    btl_tcp_pair(&lo, &hi, lo_to_hi, hi_to_lo);
    for (uint32_t i = 0; i < lo.nmods; i++) {
        int j = lo_to_hi[i];
        if (j >= 0 && ((uint32_t)j >= hi.nmods || hi_to_lo[j] != (int)i)) {
            fail_check("the pairing is not a matching");
        }
    }
    for (uint32_t j = 0; j < hi.nmods; j++) {
        int i = hi_to_lo[j];
        if (i >= 0 && ((uint32_t)i >= lo.nmods || lo_to_hi[i] != (int)j)) {
            fail_check("the pairing is not a matching");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] % 2 == 0) {
        entries(data + 1, size - 1);
    } else {
        pairing(data + 1, size - 1);
    }
    return 0;
}
