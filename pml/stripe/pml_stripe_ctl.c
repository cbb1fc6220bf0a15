/* Reliable control messages to peers reached over several rails.
 *
 * Fragments survive a failing rail because the sender keeps its plan until
 * FIN (pml_stripe_failover.c). Everything else a peer is sent — EAGER, RTS,
 * CTS, FIN — is done for the sender once its btl took it, yet dies in the
 * socket of a rail that fails: the peer would wait forever. So, to a peer
 * with more than one rail, each such message carries a sequence number
 * (cseq, per direction) and the sender keeps a copy until the peer
 * acknowledges it (cack: "every cseq below this arrived"), carried by every
 * control message going back, and by an ACK of its own after
 * PML_CTL_ACK_EVERY messages without one. When a rail fails, the copies
 * that went over it go again over the first rail left; the receiver drops
 * those it already had, by cseq, before they reach matching.
 *
 * Peers with one rail (sm, a single NIC) are not tracked (cseq 0): when
 * their only rail fails they are unreachable anyway. */
#include <stdlib.h>
#include <string.h>

#include "pml_stripe.h"

#define PML_CTL_ACK_EVERY 16

/* A control message kept until the peer acknowledges it. */
struct pml_ctl_msg {
    struct pml_ctl_msg *next;
    struct pml_ctl_msg *prev; /* acknowledged while busy: in pml->ctl_orphans */
    pml_stripe_t *pml;
    uint32_t cseq;
    mrail_btl_tag_t tag;
    const mrail_btl_module_t *module; /* the rail it went over last */
    unsigned busy;                    /* btl sends of it not called back yet */
    bool acked;                       /* off the list: freed once busy is 0 */
    size_t hdr_len, len;
    unsigned char bytes[]; /* header, then payload */
};

static bool before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool tracked(const pml_stripe_t *pml, uint32_t peer)
{
    return mrail_rail_table_peer(&pml->rails.table, peer)->count > 1;
}

const mrail_rail_t *pml_first_up(const pml_stripe_t *pml, uint32_t peer)
{
    const mrail_peer_rails_t *pr = mrail_rail_table_peer(&pml->rails.table, peer);
    for (size_t i = 0; i < pr->count; i++) {
        if (pr->rails[i].state == MRAIL_RAIL_UP) {
            return &pr->rails[i];
        }
    }
    return NULL;
}

/* An acknowledged message a btl still holds: kept where finalize finds
 * it (a btl that never calls back before it closes would leak it). */
static void orphan_link(pml_ctl_msg_t *msg)
{
    pml_stripe_t *pml = msg->pml;
    msg->prev = NULL;
    msg->next = pml->ctl_orphans;
    if (msg->next != NULL) {
        msg->next->prev = msg;
    }
    pml->ctl_orphans = msg;
}

static void orphan_unlink(pml_ctl_msg_t *msg)
{
    if (msg->prev != NULL) {
        msg->prev->next = msg->next;
    } else {
        msg->pml->ctl_orphans = msg->next;
    }
    if (msg->next != NULL) {
        msg->next->prev = msg->prev;
    }
}

static void msg_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep, (void)status; /* a failed send goes again on failover */
    pml_ctl_msg_t *msg = cbdata;
    if (--msg->busy == 0 && msg->acked) {
        orphan_unlink(msg);
        free(msg);
    }
}

static void emit(pml_stripe_t *pml, uint32_t peer, pml_ctl_msg_t *msg)
{
    const mrail_rail_t *rail = pml_first_up(pml, peer);
    if (rail == NULL) {
        return; /* the peer is unreachable */
    }
    mrail_btl_module_t *m = rail->module;
    msg->module = m;
    msg->busy++;
    struct iovec payload = {msg->bytes + msg->hdr_len, msg->len - msg->hdr_len};
    int rc = m->send(m, rail->ep, msg->tag, msg->bytes, msg->hdr_len, &payload,
                     payload.iov_len > 0 ? 1 : 0, msg_done, msg);
    if (rc != MRAIL_INPROGRESS) {
        msg_done(m, rail->ep, rc, msg);
    }
}

/* Untracked: the old way, sendi, else a copy the btl may keep. Copies
 * whose btl has not called back are listed: a btl drops what it still
 * holds at finalize without calling back, so the PML frees them once the
 * btls are gone (pml_ctl_free_copies). */
struct pml_ctl_copy {
    struct pml_ctl_copy *prev, *next;
    pml_stripe_t *pml;
    unsigned char bytes[];
};

static void copy_unlink(pml_ctl_copy_t *copy)
{
    if (copy->prev != NULL) {
        copy->prev->next = copy->next;
    } else {
        copy->pml->ctl_copies = copy->next;
    }
    if (copy->next != NULL) {
        copy->next->prev = copy->prev;
    }
}

static void control_done(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, int status, void *cbdata)
{
    (void)m, (void)ep, (void)status;
    pml_ctl_copy_t *copy = cbdata;
    copy_unlink(copy);
    free(copy);
}

void pml_ctl_free_copies(pml_stripe_t *pml)
{
    while (pml->ctl_copies != NULL) {
        pml_ctl_copy_t *copy = pml->ctl_copies;
        copy_unlink(copy);
        free(copy);
    }
    while (pml->ctl_orphans != NULL) {
        pml_ctl_msg_t *msg = pml->ctl_orphans;
        orphan_unlink(msg);
        free(msg);
    }
}

static int send_untracked(pml_stripe_t *pml, uint32_t peer, mrail_btl_tag_t tag, const void *hdr,
                          size_t len)
{
    const mrail_rail_t *rail = pml_first_up(pml, peer);
    if (rail == NULL) {
        return MRAIL_ERR_UNREACHABLE;
    }
    mrail_btl_module_t *m = rail->module;
    if (m->sendi != NULL && m->sendi(m, rail->ep, tag, hdr, len, NULL, 0) == MRAIL_SUCCESS) {
        return MRAIL_SUCCESS;
    }
    pml_ctl_copy_t *copy = malloc(sizeof(*copy) + len);
    if (copy == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    memcpy(copy->bytes, hdr, len);
    *copy = (pml_ctl_copy_t){.prev = NULL, .next = pml->ctl_copies, .pml = pml};
    if (copy->next != NULL) {
        copy->next->prev = copy;
    }
    pml->ctl_copies = copy;
    int rc = m->send(m, rail->ep, tag, copy->bytes, len, NULL, 0, control_done, copy);
    if (rc == MRAIL_SUCCESS || rc < 0) {
        copy_unlink(copy);
        free(copy);
    }
    return rc < 0 ? rc : MRAIL_SUCCESS;
}

int pml_ctl_send(pml_stripe_t *pml, uint32_t peer, mrail_btl_tag_t tag, void *hdr, size_t hdr_len,
                 const struct iovec *payload, int npayload)
{
    pml_ctl_peer_t *st = &pml->ctl[peer];
    pml_hdr_ctl_t *c = hdr;
    if (!tracked(pml, peer)) {
        *c = (pml_hdr_ctl_t){0, 0};
        return send_untracked(pml, peer, tag, hdr, hdr_len);
    }
    size_t len = hdr_len;
    for (int i = 0; i < npayload; i++) {
        len += payload[i].iov_len;
    }
    pml_ctl_msg_t *msg = malloc(sizeof(*msg) + len);
    if (msg == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    *c = (pml_hdr_ctl_t){.cseq = st->next_seq++, .cack = st->expect};
    st->unacked_rx = 0; /* this carries our acknowledgement */
    *msg = (pml_ctl_msg_t){.cseq = c->cseq, .pml = pml, .tag = tag, .hdr_len = hdr_len, .len = len};
    memcpy(msg->bytes, hdr, hdr_len);
    size_t at = hdr_len;
    for (int i = 0; i < npayload; i++) {
        if (payload[i].iov_len > 0) {
            memcpy(msg->bytes + at, payload[i].iov_base, payload[i].iov_len);
        }
        at += payload[i].iov_len;
    }
    if (st->tail != NULL) {
        st->tail->next = msg;
    } else {
        st->head = msg;
    }
    st->tail = msg;
    emit(pml, peer, msg);
    return MRAIL_SUCCESS;
}

/* The peer has everything below cack: drop those copies. */
static void release(pml_ctl_peer_t *st, uint32_t cack)
{
    while (st->head != NULL && before(st->head->cseq, cack)) {
        pml_ctl_msg_t *msg = st->head;
        st->head = msg->next;
        if (st->head == NULL) {
            st->tail = NULL;
        }
        msg->acked = true;
        if (msg->busy == 0) {
            free(msg);
        } else {
            orphan_link(msg);
        }
    }
}

/* Records cseq; false when it arrived before. */
static bool first_arrival(pml_ctl_peer_t *st, uint32_t cseq)
{
    uint32_t d = cseq - st->expect;
    if ((int32_t)d < 0) {
        return false;
    }
    if (d == 0) {
        st->expect++;
        for (;;) { /* bit k of ahead: expect + 1 + k is here */
            bool have = st->ahead & 1;
            st->ahead >>= 1;
            if (!have) {
                break;
            }
            st->expect++;
        }
        return true;
    }
    if (d <= 64) {
        uint64_t bit = 1ull << (d - 1);
        if (st->ahead & bit) {
            return false;
        }
        st->ahead |= bit;
    }
    return true; /* further ahead than the window: cannot be a copy of a recent one */
}

bool pml_ctl_arrived(pml_stripe_t *pml, uint32_t from, const void *hdr)
{
    pml_hdr_ctl_t c;
    memcpy(&c, hdr, sizeof(c));
    pml_ctl_peer_t *st = &pml->ctl[from];
    if (c.cack != 0) {
        release(st, c.cack);
    }
    if (c.cseq == 0) {
        return true;
    }
    if (!first_arrival(st, c.cseq)) {
        pml->stats.ctl_dup_dropped++;
        return false;
    }
    if (++st->unacked_rx >= PML_CTL_ACK_EVERY) {
        st->unacked_rx = 0;
        pml_hdr_ack_t ack = {.c = {.cseq = 0, .cack = st->expect}};
        send_untracked(pml, from, PML_TAG_ACK, &ack, sizeof(ack));
    }
    return true;
}

void pml_ctl_resend(pml_stripe_t *pml, uint32_t peer, const mrail_btl_module_t *failed)
{
    for (pml_ctl_msg_t *msg = pml->ctl[peer].head; msg != NULL; msg = msg->next) {
        if (msg->module == failed) {
            pml->stats.ctl_resent++;
            emit(pml, peer, msg);
        }
    }
}

int pml_ctl_init(pml_stripe_t *pml)
{
    pml->ctl = calloc(pml->size, sizeof(*pml->ctl));
    if (pml->ctl == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    for (uint32_t p = 0; p < pml->size; p++) {
        pml->ctl[p].next_seq = pml->ctl[p].expect = 1; /* 0: untracked */
    }
    return MRAIL_SUCCESS;
}

void pml_ctl_fini(pml_stripe_t *pml)
{
    for (uint32_t p = 0; pml->ctl != NULL && p < pml->size; p++) {
        for (pml_ctl_msg_t *msg = pml->ctl[p].head, *next; msg != NULL; msg = next) {
            next = msg->next;
            free(msg); /* no progress runs after this: no btl touches it again */
        }
    }
    free(pml->ctl);
    pml->ctl = NULL;
}
