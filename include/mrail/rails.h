/* mrail rails: which modules reach each peer, with what weight, in what
 * health. A plain data structure: the btl base fills it at wire-up, the PML
 * scheduler reads it, failover marks rails failed.
 *
 * Invariants (both peers compute them alike from the same inputs):
 *  - a peer's rails are the modules of the highest exclusivity among those
 *    that reach it; lower ones are dropped (sm hides tcp, self hides sm);
 *  - the weights of a peer's usable rails sum to 1, in proportion to
 *    bandwidth (equal shares when a bandwidth is unknown);
 *  - rails are kept in the order they were added. */
#ifndef MRAIL_RAILS_H
#define MRAIL_RAILS_H

#include "mrail/btl.h"

/* Declarations here are libmrail's interface: visible even when the
 * library is built with hidden visibility. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mrail_rail_state { MRAIL_RAIL_UP, MRAIL_RAIL_FAILED } mrail_rail_state_t;

typedef struct mrail_rail {
    mrail_btl_module_t *module;
    mrail_btl_endpoint_t *ep;
    double weight; /* share of the peer's traffic; 0 when failed */
    mrail_rail_state_t state;
} mrail_rail_t;

typedef struct mrail_peer_rails {
    mrail_rail_t *rails;
    size_t count;
    size_t usable; /* rails UP */
} mrail_peer_rails_t;

typedef struct mrail_rail_table {
    uint32_t npeers;
    mrail_peer_rails_t *peers; /* by rank */
} mrail_rail_table_t;

int mrail_rail_table_init(mrail_rail_table_t *t, uint32_t npeers);
void mrail_rail_table_fini(mrail_rail_table_t *t);
/* Offers module (through ep) as a way to reach peer; keeps it only if no
 * rail of higher exclusivity reaches the peer, and drops lower ones. */
int mrail_rail_table_add(mrail_rail_table_t *t, uint32_t peer, mrail_btl_module_t *module,
                         mrail_btl_endpoint_t *ep);
/* The peer's rails, or NULL for a rank out of range. */
const mrail_peer_rails_t *mrail_rail_table_peer(const mrail_rail_table_t *t, uint32_t peer);
/* Marks the rail of module towards peer failed and re-weighs the rest;
 * returns how many usable rails the peer has left. */
size_t mrail_rail_table_fail(mrail_rail_table_t *t, uint32_t peer,
                             const mrail_btl_module_t *module);
/* Marks the rail of module towards peer up again and re-weighs. */
void mrail_rail_table_restore(mrail_rail_table_t *t, uint32_t peer,
                              const mrail_btl_module_t *module);
/* Marks every rail of module failed (a device failure). */
void mrail_rail_table_fail_module(mrail_rail_table_t *t, const mrail_btl_module_t *module);

/* The modules a job drives, and how they reach every rank. */
typedef struct mrail_rails {
    mrail_btl_module_t **modules; /* with a data path, from every selected btl */
    size_t nmodules;
    mrail_rail_table_t table;
    /* The modules that carry a rail of some peer, in order: every poll's
     * walk (the others are progressed rarely). */
    mrail_btl_module_t **carrying;
    size_t ncarrying;
    unsigned quiet_polls; /* progress calls since the non-carrying modules' last turn */
} mrail_rails_t;

/* Wires up every selected btl module that has a data path (wire_up, one
 * modex fence, add_peers for all ranks) and fills the rail table. Collective
 * over the job. am receives every module's arrivals and errors. Fails with
 * why when a rank is reachable by no module. */
int mrail_rails_connect(mrail_frameworks_t *fws, mrail_rte_t *rte, mrail_btl_am_table_t *am,
                        mrail_rails_t *rails, mrail_reason_t *why);
/* Drops the table; the modules stay with the btl framework. */
void mrail_rails_disconnect(mrail_rails_t *rails);
/* Progresses every module that carries a rail once, the others (a tcp
 * module whose peers are all reached by sm: it only has strangers to
 * refuse) every 16384th call; returns the events handled. */
int mrail_rails_progress(mrail_rails_t *rails);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif
