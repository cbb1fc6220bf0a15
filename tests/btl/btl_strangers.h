/* Strangers at btl/tcp's door, for rank programs: connections to a rank's
 * tcp listener that are not from a job member, and the btl's own count of
 * what it refused and accepted. The wire formats are btl/tcp's. */
#ifndef MRAIL_TEST_BTL_STRANGERS_H
#define MRAIL_TEST_BTL_STRANGERS_H

#include <stddef.h>
#include <stdint.h>

#include "mrail/rails.h"
#include "mrail/rte.h"

/* The kinds of stranger, one per knock: garbage bytes, half a hello, a
 * wrong secret, another job's hello, a hello of a member that is already
 * connected, and a bare connect that sends nothing. */
#define BTL_STRANGER_KINDS 6

/* Connects to rank peer's first tcp listener as stranger kind (0 ..
 * BTL_STRANGER_KINDS - 1), sends its bytes and closes. 0, or -1 with why. */
int btl_stranger_knock(mrail_rte_t *rte, uint32_t peer, int kind, char *why, size_t why_len);
/* Connects to rank peer's first tcp listener, sends the first nbytes of a
 * hello (fewer than a whole one) and keeps the connection open: the fd,
 * or -1 with why. */
int btl_stranger_hold(mrail_rte_t *rte, uint32_t peer, size_t nbytes, char *why, size_t why_len);
/* Strangers refused, connections made or accepted, and handshakes started
 * again after the acceptor gave up on them, by the tcp modules among
 * rails' modules. */
unsigned btl_tcp_strangers_refused(const mrail_rails_t *rails);
unsigned btl_tcp_connections(const mrail_rails_t *rails);
unsigned btl_tcp_reconnects(const mrail_rails_t *rails);

#endif
