/* btl/uct endpoint-to-endpoint wire-up, two ways.
 *
 * btl_uct_connect=modex (auto's choice for a transport that connects no
 * other way, e.g. RC): at wire-up a rank creates an endpoint for every
 * other rank and publishes their addresses in the modex; each side
 * connects its endpoint for a peer to the one the peer made for it. O(job
 * size) endpoints and modex bytes per rank, as the price of needing no
 * second transport.
 *
 * btl_uct_connect=ep: the first send to a peer creates an unconnected
 * endpoint and sends its address in a first active message over the
 * interface's connect-to-interface path; the peer connects its own
 * endpoint to it and answers with its address.
 *
 * Each side sends its address with "I have connected to yours" once that
 * is true, and sends data only after it has connected and heard the peer
 * say so, so no byte reaches an endpoint that is not connected yet. Both
 * sides starting at once needs nothing more: each connects to the other's
 * one endpoint. Messages arrive in UCT's callback and are handled from
 * progress, where UCT may be called again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btl_uct.h"

/* The address message: who, whether it has connected, its endpoint. */
typedef struct conn_msg {
    uint32_t src;
    uint16_t magic;
    uint8_t connected;
    uint8_t addr_len;
    uint8_t addr[BTL_UCT_MAX_ADDR];
} conn_msg_t;

typedef struct conn_inbox {
    struct conn_inbox *next;
    conn_msg_t msg;
} conn_inbox_t;

static void conn_fail(btl_uct_module_t *m, mrail_btl_endpoint_t *ep, const char *what,
                      ucs_status_t st)
{
    if (!ep->failed) {
        ep->failed = true;
        mrail_btl_report_error(&m->base, ep->rank, MRAIL_ERR_IO, "%s: %s for rank %u: %s",
                               m->base.name, what, ep->rank, ucs_status_string(st));
    }
}

static void due_push(btl_uct_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (!ep->conn.due) {
        ep->conn.due = true;
        ep->conn.next_due = m->conn_due;
        m->conn_due = ep;
    }
}

/* The unconnected endpoint whose address we publish to this peer. */
static bool local_ep(btl_uct_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (ep->ep != NULL) {
        return true;
    }
    uct_ep_params_t params = {.field_mask = UCT_EP_PARAM_FIELD_IFACE, .iface = m->iface};
    ucs_status_t st = uct_ep_create(&params, &ep->ep);
    if (st != UCS_OK) {
        ep->ep = NULL;
        conn_fail(m, ep, "creating an endpoint", st);
        return false;
    }
    return true;
}

bool btl_uct_conn_ready(btl_uct_module_t *m, mrail_btl_endpoint_t *ep)
{
    if (!m->ep_mode || (ep->conn.connected && ep->conn.peer_connected)) {
        return true;
    }
    if (!ep->conn.started && !ep->failed && local_ep(m, ep)) {
        ep->conn.started = true;
        due_push(m, ep);
    }
    return false;
}

static size_t pack_conn(void *dest, void *arg)
{
    memcpy(dest, arg, sizeof(conn_msg_t));
    return sizeof(conn_msg_t);
}

/* Sends our address to ep's peer; false while UCT has no room. */
static bool send_addr(btl_uct_module_t *m, mrail_btl_endpoint_t *ep)
{
    ucs_status_t st;
    if (ep->conn.to_iface == NULL) {
        uct_ep_params_t params = {.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                                                UCT_EP_PARAM_FIELD_DEV_ADDR |
                                                UCT_EP_PARAM_FIELD_IFACE_ADDR,
                                  .iface = m->iface,
                                  .dev_addr = (const uct_device_addr_t *)ep->conn.dev_addr,
                                  .iface_addr = (const uct_iface_addr_t *)ep->conn.iface_addr};
        if ((st = uct_ep_create(&params, &ep->conn.to_iface)) != UCS_OK) {
            ep->conn.to_iface = NULL;
            conn_fail(m, ep, "connecting to the interface", st);
            return true;
        }
    }
    conn_msg_t msg = {.src = m->my_rank,
                      .magic = BTL_UCT_MAGIC,
                      .connected = ep->conn.connected,
                      .addr_len = (uint8_t)m->attr.ep_addr_len};
    if ((st = uct_ep_get_address(ep->ep, (uct_ep_addr_t *)msg.addr)) != UCS_OK) {
        conn_fail(m, ep, "uct_ep_get_address", st);
        return true;
    }
    ssize_t n = uct_ep_am_bcopy(ep->conn.to_iface, BTL_UCT_CONN_AM_ID, pack_conn, &msg, 0);
    if (n == UCS_ERR_NO_RESOURCE) {
        return false;
    }
    if (n < 0) {
        conn_fail(m, ep, "sending the endpoint address", (ucs_status_t)n);
        return true;
    }
    ep->conn.told = ep->conn.connected;
    return true;
}

static void handle(btl_uct_module_t *m, const conn_msg_t *msg)
{
    mrail_btl_endpoint_t *ep = &m->eps[msg->src];
    if (ep->failed || !local_ep(m, ep)) {
        return;
    }
    ep->conn.started = true;
    if (!ep->conn.connected) {
        ucs_status_t st = uct_ep_connect_to_ep(ep->ep, (const uct_device_addr_t *)ep->conn.dev_addr,
                                               (const uct_ep_addr_t *)msg->addr);
        if (st != UCS_OK) {
            conn_fail(m, ep, "uct_ep_connect_to_ep", st);
            return;
        }
        ep->conn.connected = true;
        if (m->has_rma && m->rma.own) {
            ep->rma_ep = ep->ep;
        }
    }
    if (msg->connected) {
        ep->conn.peer_connected = true;
    }
    if (!ep->conn.told) {
        due_push(m, ep);
    }
}

int btl_uct_conn_progress(btl_uct_module_t *m)
{
    int events = 0;
    while (m->conn_inbox != NULL) {
        conn_inbox_t *in = m->conn_inbox;
        m->conn_inbox = in->next;
        handle(m, &in->msg);
        free(in);
        events++;
    }
    mrail_btl_endpoint_t **link = &m->conn_due;
    while (*link != NULL) {
        mrail_btl_endpoint_t *ep = *link;
        if (!ep->failed && !send_addr(m, ep)) {
            link = &ep->conn.next_due; /* no room: again next time */
            continue;
        }
        *link = ep->conn.next_due;
        ep->conn.due = false;
        events++;
    }
    return events;
}

static ucs_status_t conn_arrived(void *arg, void *data, size_t length, unsigned flags)
{
    (void)flags;
    btl_uct_module_t *m = arg;
    conn_msg_t msg;
    if (length != sizeof(msg)) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received a %zu-byte connection message, not %zu", m->base.name,
                               length, sizeof(msg));
        return UCS_OK;
    }
    memcpy(&msg, data, sizeof(msg));
    if (msg.magic != BTL_UCT_MAGIC || msg.src >= m->size || m->eps[msg.src].module == NULL ||
        msg.addr_len != m->attr.ep_addr_len) {
        mrail_btl_report_error(&m->base, UINT32_MAX, MRAIL_ERR_IO,
                               "%s received a connection message it cannot read (from rank %u)",
                               m->base.name, msg.src);
        return UCS_OK;
    }
    conn_inbox_t *in = malloc(sizeof(*in));
    if (in == NULL) {
        mrail_btl_report_error(&m->base, msg.src, MRAIL_ERR_OUT_OF_RESOURCE,
                               "%s: out of memory for a connection message", m->base.name);
        return UCS_OK;
    }
    in->msg = msg;
    in->next = NULL;
    conn_inbox_t **tail = &m->conn_inbox;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = in;
    return UCS_OK;
}

int btl_uct_conn_open(btl_uct_module_t *m, mrail_reason_t *why)
{
    if (m->attr.ep_addr_len > BTL_UCT_MAX_ADDR) {
        return mrail_reason_set(why, MRAIL_ERR_DECLINED,
                                "%s/%s has endpoint addresses longer than %d bytes", m->tl, m->dev,
                                BTL_UCT_MAX_ADDR);
    }
    ucs_status_t st = uct_iface_set_am_handler(m->iface, BTL_UCT_CONN_AM_ID, conn_arrived, m, 0);
    if (st != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "uct_iface_set_am_handler on %s/%s: %s", m->tl,
                                m->dev, ucs_status_string(st));
    }
    m->ep_mode = true;
    return MRAIL_SUCCESS;
}

void btl_uct_conn_remember(mrail_btl_endpoint_t *ep, const btl_uct_modex_entry_t *e)
{
    memcpy(ep->conn.dev_addr, e->dev_addr, e->dev_addr_len);
    memcpy(ep->conn.iface_addr, e->iface_addr, e->iface_addr_len);
}

void btl_uct_conn_close(btl_uct_module_t *m)
{
    while (m->conn_inbox != NULL) {
        conn_inbox_t *in = m->conn_inbox;
        m->conn_inbox = in->next;
        free(in);
    }
    for (uint32_t r = 0; m->eps != NULL && r < m->size; r++) {
        if (m->eps[r].conn.to_iface != NULL) {
            uct_ep_destroy(m->eps[r].conn.to_iface);
            m->eps[r].conn.to_iface = NULL;
        }
    }
}

static void modex_key(const btl_uct_module_t *m, char *key, size_t len)
{
    snprintf(key, len, "btl.uct.eps.%s.%s", m->tl, m->dev);
}

int btl_uct_conn_publish(btl_uct_module_t *m, mrail_reason_t *why)
{
    size_t alen = m->attr.ep_addr_len;
    uint8_t *blob = calloc(m->size, alen ? alen : 1);
    if (blob == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    uct_ep_params_t params = {.field_mask = UCT_EP_PARAM_FIELD_IFACE, .iface = m->iface};
    for (uint32_t r = 0; r < m->size; r++) {
        if (r == m->my_rank) {
            continue;
        }
        ucs_status_t st = uct_ep_create(&params, &m->eps[r].ep);
        if (st == UCS_OK) {
            st = uct_ep_get_address(m->eps[r].ep, (uct_ep_addr_t *)(blob + (size_t)r * alen));
        }
        if (st != UCS_OK) {
            free(blob);
            return mrail_reason_set(why, MRAIL_ERR_IO, "%s: an endpoint for rank %u: %s",
                                    m->base.name, r, ucs_status_string(st));
        }
    }
    char key[96];
    modex_key(m, key, sizeof(key));
    int rc = mrail_rte_modex_put(m->base.rte, key, blob, (size_t)m->size * alen, why);
    free(blob);
    return rc;
}

int btl_uct_conn_modex_connect(btl_uct_module_t *m, mrail_btl_endpoint_t *ep,
                               const btl_uct_modex_entry_t *e, mrail_reason_t *why)
{
    char key[96];
    modex_key(m, key, sizeof(key));
    void *blob;
    size_t len;
    int rc = mrail_rte_modex_get(m->base.rte, ep->rank, key, &blob, &len, why);
    if (rc != MRAIL_SUCCESS) {
        return rc;
    }
    size_t alen = m->attr.ep_addr_len;
    if (len != (size_t)m->size * alen || ep->ep == NULL) {
        free(blob);
        return mrail_reason_set(why, MRAIL_ERR_IO,
                                "%s: rank %u published %zu bytes of endpoint addresses, not %zu",
                                m->base.name, ep->rank, len, (size_t)m->size * alen);
    }
    ucs_status_t st =
        uct_ep_connect_to_ep(ep->ep, (const uct_device_addr_t *)e->dev_addr,
                             (const uct_ep_addr_t *)((uint8_t *)blob + (size_t)m->my_rank * alen));
    free(blob);
    if (st != UCS_OK) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "%s: uct_ep_connect_to_ep for rank %u: %s",
                                m->base.name, ep->rank, ucs_status_string(st));
    }
    ep->conn.started = ep->conn.connected = ep->conn.peer_connected = ep->conn.told = true;
    if (m->has_rma && m->rma.own) {
        ep->rma_ep = ep->ep;
    }
    return MRAIL_SUCCESS;
}
