/* Pairing of two ranks' tcp modules; the rule is in btl_tcp.h. */
#include "btl_tcp.h"

/* Does side's kernel send traffic for addr out of module k's interface? */
static bool routes_through(const btl_tcp_side_t *side, uint32_t addr, uint32_t k)
{
    const mrail_route_t *r = mrail_route_lookup(side->routes, side->nroutes, addr);
    return r != NULL && r->oif == side->mods[k].ifindex;
}

void btl_tcp_pair(const btl_tcp_side_t *lo, const btl_tcp_side_t *hi, int *lo_to_hi, int *hi_to_lo)
{
    for (uint32_t j = 0; j < hi->nmods; j++) {
        hi_to_lo[j] = -1;
    }
    for (uint32_t i = 0; i < lo->nmods; i++) {
        lo_to_hi[i] = -1;
        for (uint32_t j = 0; j < hi->nmods && lo_to_hi[i] < 0; j++) {
            /* Port 0: that module could not listen (its address vanished). */
            if (hi_to_lo[j] < 0 && lo->mods[i].port != 0 && hi->mods[j].port != 0 &&
                routes_through(lo, hi->mods[j].addr, i) &&
                routes_through(hi, lo->mods[i].addr, j)) {
                lo_to_hi[i] = (int)j;
                hi_to_lo[j] = (int)i;
            }
        }
    }
}
