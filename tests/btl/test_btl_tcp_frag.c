/* btl/tcp's fragment writer on a real socket whose peer is gone: the write
 * must fail with EPIPE (the rail then fails over), never raise SIGPIPE,
 * whose default action kills the rank. Seen in the lab: a rank still
 * progressing in MPI_Finalize's fence wrote to a peer that had exited. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btl_tcp.h"

/* btl_tcp_frag.c is compiled in; its reader would call this on errors. */
void btl_tcp_ep_fail(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, const char *what, int err)
{
    (void)m, (void)ep, (void)what, (void)err;
}

Test(tcp_frag, a_peer_that_is_gone_is_epipe_not_sigpipe)
{
    signal(SIGPIPE, SIG_DFL); /* as in a program that never touched it */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(close(sv[1]), 0);
    btl_tcp_module_t *m = calloc(1, sizeof(*m));
    mrail_btl_endpoint_t *ep = calloc(1, sizeof(*ep));
    btl_tcp_out_t *o = calloc(1, sizeof(*o) + 2 * sizeof(struct iovec));
    cr_assert(m != NULL && ep != NULL && o != NULL);
    ep->module = m;
    ep->fd = sv[0];
    static char head[16], body[4096];
    o->iov[0] = (struct iovec){head, sizeof(head)};
    o->iov[1] = (struct iovec){body, sizeof(body)};
    o->niov = 2;
    int err = 0;
    cr_expect_not(btl_tcp_frag_write(ep, o, &err), "a write to a closed peer completed");
    cr_expect_eq(err, EPIPE, "error %d (%s)", err, strerror(err));
    cr_expect_eq(o->cur, 0, "nothing was sent");
    close(sv[0]);
    free(o);
    free(ep);
    free(m);
}
