/* MPI matching; the rules are in pml_stripe_match.h. */
#include <stdlib.h>

#include "pml_stripe_match.h"

int match_comm_init(match_comm_t *c, uint32_t nprocs, match_fn_t on_match, void *ctx)
{
    *c = (match_comm_t){.nprocs = nprocs, .on_match = on_match, .ctx = ctx};
    c->expected = calloc(nprocs ? nprocs : 1, sizeof(*c->expected));
    c->out_of_order = calloc(nprocs ? nprocs : 1, sizeof(*c->out_of_order));
    if (c->expected == NULL || c->out_of_order == NULL) {
        match_comm_fini(c);
        return -1;
    }
    return 0;
}

void match_comm_fini(match_comm_t *c)
{
    free(c->expected);
    free(c->out_of_order);
    c->expected = NULL;
    c->out_of_order = NULL;
}

static bool matches(const match_recv_t *r, const match_msg_t *m)
{
    return (r->src == MATCH_ANY_SOURCE || r->src == m->src) &&
           (r->tag == MATCH_ANY_TAG || r->tag == m->tag);
}

/* One header, in sequence order: the first posted receive it fits, else
 * the unexpected queue. */
static void match_in_order(match_comm_t *c, match_msg_t *msg)
{
    match_recv_t **link = &c->posted, *prev = NULL;
    for (match_recv_t *r = c->posted; r != NULL; prev = r, link = &r->next, r = r->next) {
        if (matches(r, msg)) {
            *link = r->next;
            if (c->posted_tail == r) {
                c->posted_tail = prev;
            }
            r->next = NULL;
            c->on_match(r, msg, c->ctx);
            return;
        }
    }
    msg->next = NULL;
    if (c->unexpected_tail != NULL) {
        c->unexpected_tail->next = msg;
    } else {
        c->unexpected = msg;
    }
    c->unexpected_tail = msg;
}

/* Whatever the source's newest header was holding up is in order now. */
static void release_parked(match_comm_t *c, uint32_t src)
{
    match_msg_t *head;
    while ((head = c->out_of_order[src]) != NULL && head->seq == c->expected[src]) {
        c->out_of_order[src] = head->next;
        match_in_order(c, head);
        c->expected[src]++;
    }
}

match_recv_t *match_incoming_posted(match_comm_t *c, int32_t src, int32_t tag, uint32_t seq)
{
    if ((uint32_t)src >= c->nprocs || seq != c->expected[src]) {
        return NULL;
    }
    match_msg_t msg = {.src = src, .tag = tag, .seq = seq};
    match_recv_t **link = &c->posted, *prev = NULL;
    for (match_recv_t *r = c->posted; r != NULL; prev = r, link = &r->next, r = r->next) {
        if (matches(r, &msg)) {
            *link = r->next;
            if (c->posted_tail == r) {
                c->posted_tail = prev;
            }
            r->next = NULL;
            c->expected[src]++;
            return r;
        }
    }
    return NULL;
}

void match_incoming_done(match_comm_t *c, int32_t src)
{
    if (c->out_of_order[src] != NULL) {
        release_parked(c, (uint32_t)src);
    }
}

void match_incoming(match_comm_t *c, match_msg_t *msg)
{
    uint32_t src = (uint32_t)msg->src;
    if (msg->seq != c->expected[src]) {
        /* Ahead of its turn: park it, sorted (sequence numbers wrap after
         * 2^32 messages, so compare by distance from the expected one). */
        match_msg_t **link = &c->out_of_order[src];
        uint32_t dist = msg->seq - c->expected[src];
        while (*link != NULL && (*link)->seq - c->expected[src] < dist) {
            link = &(*link)->next;
        }
        msg->next = *link;
        *link = msg;
        return;
    }
    match_in_order(c, msg);
    c->expected[src]++;
    release_parked(c, src);
}

match_msg_t *match_probe(const match_comm_t *c, int32_t src, int32_t tag)
{
    match_recv_t probe = {.src = src, .tag = tag};
    for (match_msg_t *m = c->unexpected; m != NULL; m = m->next) {
        if (matches(&probe, m)) {
            return m;
        }
    }
    return NULL;
}

void match_take(match_comm_t *c, match_msg_t *msg)
{
    match_msg_t *prev = NULL;
    for (match_msg_t **link = &c->unexpected; *link != NULL; prev = *link, link = &(*link)->next) {
        if (*link == msg) {
            *link = msg->next;
            if (c->unexpected_tail == msg) {
                c->unexpected_tail = prev;
            }
            msg->next = NULL;
            return;
        }
    }
}

match_msg_t *match_post(match_comm_t *c, match_recv_t *recv)
{
    match_msg_t *m = match_probe(c, recv->src, recv->tag);
    if (m != NULL) {
        match_take(c, m);
        return m;
    }
    recv->next = NULL;
    if (c->posted_tail != NULL) {
        c->posted_tail->next = recv;
    } else {
        c->posted = recv;
    }
    c->posted_tail = recv;
    return NULL;
}

bool match_cancel(match_comm_t *c, match_recv_t *recv)
{
    match_recv_t *prev = NULL;
    for (match_recv_t **link = &c->posted; *link != NULL; prev = *link, link = &(*link)->next) {
        if (*link == recv) {
            *link = recv->next;
            if (c->posted_tail == recv) {
                c->posted_tail = prev;
            }
            recv->next = NULL;
            return true;
        }
    }
    return false;
}
