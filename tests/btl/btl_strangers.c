/* Strangers at btl/tcp's door; see btl_strangers.h. */
#include "btl_strangers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btl_tcp.h" /* the wire formats, to play a stranger */

/* A connection to rank peer's first tcp listener: the fd, or -1 with why. */
static int connect_to(mrail_rte_t *rte, uint32_t peer, char *why, size_t why_len)
{
    void *blob;
    size_t blen;
    mrail_reason_t r;
    if (mrail_rte_modex_get(rte, peer, "btl.tcp.0", &blob, &blen, &r) != MRAIL_SUCCESS) {
        snprintf(why, why_len, "no tcp address of rank %u: %s", peer, r.text);
        return -1;
    }
    btl_tcp_modex_t e;
    memcpy(&e, blob, sizeof(e));
    free(blob);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = e.port, .sin_addr.s_addr = e.addr};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(why, why_len, "stranger could not connect: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

int btl_stranger_hold(mrail_rte_t *rte, uint32_t peer, size_t nbytes, char *why, size_t why_len)
{
    btl_tcp_hello_t part = {BTL_TCP_MAGIC, 0, 0, 0};
    int fd = connect_to(rte, peer, why, why_len);
    if (fd >= 0 && nbytes > 0 &&
        send(fd, &part, nbytes < sizeof(part) ? nbytes : sizeof(part) - 1, MSG_NOSIGNAL) <= 0) {
        snprintf(why, why_len, "stranger could not send: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int btl_stranger_knock(mrail_rte_t *rte, uint32_t peer, int kind, char *why, size_t why_len)
{
    btl_tcp_hello_t good = {BTL_TCP_MAGIC, 0, 0, 0}, bad = good;
    unsigned char garbage[64];
    memset(garbage, 0xa5, sizeof(garbage));
    const void *bytes = NULL;
    size_t len = 0;
    switch (kind) {
    case 0: bytes = garbage, len = sizeof(garbage); break;
    case 1: bytes = &good, len = sizeof(good) / 2; break;
    case 2:
        bad.secret = 12345;
        bytes = &bad, len = sizeof(bad);
        break;
    case 3:
        bad.job = 777;
        bytes = &bad, len = sizeof(bad);
        break;
    case 4: bytes = &good, len = sizeof(good); break;
    default: break; /* a bare connect */
    }
    int fd = connect_to(rte, peer, why, why_len);
    if (fd < 0) {
        return -1;
    }
    int rc = 0;
    if (len > 0 && send(fd, bytes, len, MSG_NOSIGNAL) != (ssize_t)len) {
        snprintf(why, why_len, "stranger could not send");
        rc = -1;
    }
    close(fd);
    return rc;
}

/* The sum of one counter of the tcp modules among rails' modules. */
static unsigned tcp_sum(const mrail_rails_t *rails, size_t offset)
{
    unsigned n = 0;
    for (size_t i = 0; i < rails->nmodules; i++) {
        if (!strncmp(rails->modules[i]->name, "tcp:", 4)) {
            n += *(const unsigned *)((const char *)rails->modules[i] + offset);
        }
    }
    return n;
}

unsigned btl_tcp_strangers_refused(const mrail_rails_t *rails)
{
    return tcp_sum(rails, offsetof(btl_tcp_module_t, strangers));
}

unsigned btl_tcp_connections(const mrail_rails_t *rails)
{
    return tcp_sum(rails, offsetof(btl_tcp_module_t, connections));
}

unsigned btl_tcp_reconnects(const mrail_rails_t *rails)
{
    return tcp_sum(rails, offsetof(btl_tcp_module_t, reconnects));
}
