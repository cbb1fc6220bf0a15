/* btl/tcp frames: [btl_tcp_frame_t][header][payload] on a connection.
 * Outbound frames that the socket cannot take at once keep references to
 * the caller's buffers and finish from progress (EPOLLOUT). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "btl_tcp.h"

btl_tcp_out_t *btl_tcp_frag_new(mrail_btl_tag_t tag, const void *hdr, size_t hdr_len,
                                const struct iovec *payload, int npayload)
{
    btl_tcp_out_t *o = calloc(1, sizeof(*o) + (size_t)(npayload + 2) * sizeof(struct iovec));
    if (o == NULL) {
        return NULL;
    }
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    o->frame = (btl_tcp_frame_t){.len = (uint32_t)len, .tag = tag, .hdr_len = (uint16_t)hdr_len};
    o->iov[0] = (struct iovec){&o->frame, sizeof(o->frame)};
    o->iov[1] = (struct iovec){(void *)(uintptr_t)hdr, hdr_len};
    if (npayload > 0) {
        memcpy(&o->iov[2], payload, (size_t)npayload * sizeof(struct iovec));
    }
    o->niov = npayload + 2;
    return o;
}

void btl_tcp_frag_free(btl_tcp_out_t *o)
{
    free(o->owned);
    free(o);
}

void btl_tcp_ep_enqueue(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o)
{
    if (ep->out_tail != NULL) {
        ep->out_tail->next = o;
    } else {
        ep->out_head = o;
    }
    ep->out_tail = o;
}

bool btl_tcp_frag_write(mrail_btl_endpoint_t *ep, btl_tcp_out_t *o, int *err)
{
    for (;;) {
        while (o->cur < o->niov && o->iov[o->cur].iov_len == 0) {
            o->cur++; /* sendmsg would return 0 for them, forever */
        }
        if (o->cur == o->niov) {
            break;
        }
        /* sendmsg, not writev: MSG_NOSIGNAL turns a peer that is gone into
         * EPIPE (its rail fails) instead of SIGPIPE (the rank dies). */
        struct msghdr mh = {.msg_iov = &o->iov[o->cur], .msg_iovlen = (size_t)(o->niov - o->cur)};
        ssize_t n = sendmsg(ep->fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            *err = errno == EAGAIN || errno == EINTR ? 0 : errno;
            return false;
        }
        ep->module->base.tx_bytes += (uint64_t)n;
        while (n > 0 && o->cur < o->niov) {
            size_t take = (size_t)n < o->iov[o->cur].iov_len ? (size_t)n : o->iov[o->cur].iov_len;
            o->iov[o->cur].iov_base = (char *)o->iov[o->cur].iov_base + take;
            o->iov[o->cur].iov_len -= take;
            n -= (ssize_t)take;
            if (o->iov[o->cur].iov_len == 0) {
                o->cur++;
            }
        }
    }
    return true;
}

void btl_tcp_ep_want_write(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                             .data.u64 = BTL_TCP_EV(ep, BTL_TCP_EV_EP)};
    epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, ep->fd, &ev);
}

int btl_tcp_ep_flush(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    int done = 0, err = 0;
    while (ep->out_head != NULL && btl_tcp_frag_write(ep, ep->out_head, &err)) {
        btl_tcp_out_t *o = ep->out_head;
        ep->out_head = o->next;
        if (ep->out_head == NULL) {
            ep->out_tail = NULL;
        }
        if (o->done != NULL) {
            o->done(&m->base, ep, MRAIL_SUCCESS, o->cbdata);
        }
        btl_tcp_frag_free(o);
        done++;
    }
    if (err != 0) {
        btl_tcp_ep_fail(m, ep, "failed while sending", err);
    } else {
        btl_tcp_ep_want_write(m, ep, ep->out_head != NULL);
    }
    return done;
}

void btl_tcp_ep_rx_reset(mrail_btl_endpoint_t *ep)
{
    ep->frame_got = ep->body_got = 0;
    ep->placing = ep->place_revoked = false;
    ep->place.niov = 0;
}

/* Room for need bytes of a body of want: grown as bytes arrive (doubling,
 * never past want), not to whatever length the frame claims before any
 * of it came. */
static bool body_room(mrail_btl_endpoint_t *ep, size_t need, size_t want)
{
    if (ep->body_cap >= need) {
        return true;
    }
    size_t cap = ep->body_cap * 2 > need ? ep->body_cap * 2 : need;
    if (cap > want) {
        cap = want;
    }
    char *grown = realloc(ep->body, cap);
    if (grown == NULL) {
        return false;
    }
    ep->body = grown;
    ep->body_cap = cap;
    return true;
}

/* How many bytes of the frame's body to read into ep->body next: the whole
 * body, or only the header when the payload may be placed. */
static size_t body_target(const mrail_btl_endpoint_t *ep)
{
    size_t payload = ep->frame.len - ep->frame.hdr_len;
    if (payload >= BTL_TCP_PLACE_MIN && !ep->placing) {
        return ep->frame.hdr_len;
    }
    return ep->place.niov > 0 && !ep->place_revoked ? ep->frame.hdr_len : ep->frame.len;
}

/* Reads payload bytes into the place, from where the last read stopped. */
static ssize_t read_placed(mrail_btl_endpoint_t *ep)
{
    struct iovec iov[MRAIL_BTL_PLACE_IOV];
    size_t skip = ep->body_got - ep->frame.hdr_len;
    int n = 0;
    for (int i = 0; i < ep->place.niov; i++) {
        size_t len = ep->place.iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        iov[n++] = (struct iovec){(char *)ep->place.iov[i].iov_base + skip, len - skip};
        skip = 0;
    }
    return readv(ep->fd, iov, n);
}

/* The header is in: asks the owner where the payload goes. */
static void decide_place(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    ep->placing = true;
    mrail_btl_am_place(&m->base, ep->rank, ep->frame.tag, ep->body, ep->frame.hdr_len,
                       ep->frame.len - ep->frame.hdr_len, &ep->place);
}

/* A whole frame is in: hands it to the owner, unless its place was revoked
 * (the owner no longer wants it). */
static void deliver(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    struct iovec segs[1 + MRAIL_BTL_PLACE_IOV] = {{ep->body, ep->frame.hdr_len}};
    int nsegs = 2;
    bool drop = ep->place_revoked;
    if (ep->place.niov > 0 && !drop) {
        memcpy(&segs[1], ep->place.iov, (size_t)ep->place.niov * sizeof(struct iovec));
        nsegs = 1 + ep->place.niov;
        m->placed++;
    } else {
        /* An empty frame may come before any body was allocated. */
        char *payload = ep->body != NULL ? ep->body + ep->frame.hdr_len : NULL;
        segs[1] = (struct iovec){payload, ep->frame.len - ep->frame.hdr_len};
    }
    btl_tcp_frame_t frame = ep->frame;
    btl_tcp_ep_rx_reset(ep);
    if (!drop) {
        mrail_btl_am_deliver(&m->base, ep, ep->rank, frame.tag, segs, nsegs);
    }
}

int btl_tcp_ep_receive(btl_tcp_module_t *m, mrail_btl_endpoint_t *ep)
{
    int events = 0;
    while (ep->state == BTL_TCP_EP_CONNECTED) {
        ssize_t n;
        if (ep->frame_got < sizeof(ep->frame)) {
            n = recv(ep->fd, (char *)&ep->frame + ep->frame_got, sizeof(ep->frame) - ep->frame_got,
                     MSG_DONTWAIT);
            if (n > 0 && (ep->frame_got += (size_t)n) == sizeof(ep->frame)) {
                if (ep->frame.hdr_len > ep->frame.len) {
                    btl_tcp_ep_fail(m, ep, "sent a frame whose header is longer than the frame", 0);
                    break;
                }
                if (ep->frame.len > MRAIL_BTL_SEND_SIZE_LIMIT) {
                    btl_tcp_ep_fail(m, ep, "sent a frame longer than any rank may send (64 MiB)",
                                    0);
                    break;
                }
                /* Nobody to ask: header and payload in one read. */
                ep->placing = !mrail_btl_am_may_place(&m->base, ep->frame.tag);
            }
        } else if (ep->body_got < body_target(ep)) {
            size_t want = body_target(ep);
            size_t step =
                want - ep->body_got < BTL_TCP_BODY_STEP ? want - ep->body_got : BTL_TCP_BODY_STEP;
            if (!body_room(ep, ep->body_got + step, want)) {
                btl_tcp_ep_fail(m, ep, "has a frame too large to hold", ENOMEM);
                break;
            }
            size_t room = ep->body_cap < want ? ep->body_cap : want;
            n = recv(ep->fd, ep->body + ep->body_got, room - ep->body_got, MSG_DONTWAIT);
            if (n > 0) {
                ep->body_got += (size_t)n;
            }
        } else if (!ep->placing && ep->frame.len - ep->frame.hdr_len >= BTL_TCP_PLACE_MIN) {
            decide_place(m, ep);
            continue;
        } else if (ep->body_got < ep->frame.len) {
            if (*ep->place.live != ep->place.live_value) {
                /* The rest goes to our buffer and nowhere: the place may
                 * already be someone else's memory. */
                ep->place_revoked = true;
                continue;
            }
            n = read_placed(ep);
            if (n > 0) {
                ep->body_got += (size_t)n;
            }
        } else {
            deliver(m, ep);
            events++;
            continue;
        }
        if (n > 0) {
            continue;
        }
        if (n == 0) {
            btl_tcp_ep_fail(m, ep, "was closed by the peer", 0);
        } else if (errno != EAGAIN && errno != EINTR) {
            btl_tcp_ep_fail(m, ep, "failed while receiving", errno);
        }
        break;
    }
    return events;
}
