/* btl/verbs wire formats: the modex entry of a port, the hello in a
 * connection request, the header of a message. Fixed little-endian
 * layouts, each checked before anything in it is believed. */
#include <string.h>

#include "btl_verbs.h"
#include "mrail/mrail.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | ((uint32_t)get16(p + 2) << 16);
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* entry: magic 2, version 1, port 1, link 1, pad 1, cm_port 2, ip 4,
 * gid 16, subnet 8, dev 28 (NUL-padded) = 64 */
void btl_verbs_entry_pack(const btl_verbs_entry_t *e, uint8_t out[BTL_VERBS_ENTRY_WIRE])
{
    memset(out, 0, BTL_VERBS_ENTRY_WIRE);
    put16(out, BTL_VERBS_MAGIC);
    out[2] = BTL_VERBS_WIRE_VERSION;
    out[3] = e->port;
    out[4] = e->link;
    put16(out + 6, e->cm_port);
    memcpy(out + 8, e->ip, 4);
    memcpy(out + 12, e->gid, 16);
    put64(out + 28, e->subnet);
    size_t n = strnlen(e->dev, 27);
    memcpy(out + 36, e->dev, n);
}

int btl_verbs_entry_unpack(const uint8_t in[BTL_VERBS_ENTRY_WIRE], btl_verbs_entry_t *e)
{
    if (get16(in) != BTL_VERBS_MAGIC || in[2] != BTL_VERBS_WIRE_VERSION || in[3] == 0 ||
        (in[4] != BTL_VERBS_LINK_IB && in[4] != BTL_VERBS_LINK_ETH) || get16(in + 6) == 0 ||
        memchr(in + 36, '\0', 28) == NULL || in[36] == '\0') {
        return MRAIL_ERR_BAD_PARAM;
    }
    memset(e, 0, sizeof(*e));
    e->port = in[3];
    e->link = in[4];
    e->cm_port = get16(in + 6);
    memcpy(e->ip, in + 8, 4);
    memcpy(e->gid, in + 12, 16);
    e->subnet = get64(in + 28);
    memcpy(e->dev, in + 36, strlen((const char *)in + 36) + 1);
    return MRAIL_SUCCESS;
}

bool btl_verbs_entry_reaches(const btl_verbs_entry_t *local, const btl_verbs_entry_t *peer)
{
    if (local->link != peer->link) {
        return false;
    }
    /* InfiniBand subnets meet only through routers this btl does not
     * use; RoCE v2 is routed by IP, as librdmacm resolves it. */
    return local->link != BTL_VERBS_LINK_IB || local->subnet == peer->subnet;
}

/* hello: magic 2, version 1, pad 1, rank 4, secret 8 = 16 */
void btl_verbs_hello_pack(const btl_verbs_hello_t *h, uint8_t out[BTL_VERBS_HELLO_WIRE])
{
    memset(out, 0, BTL_VERBS_HELLO_WIRE);
    put16(out, BTL_VERBS_MAGIC);
    out[2] = BTL_VERBS_WIRE_VERSION;
    put32(out + 4, h->rank);
    put64(out + 8, h->secret);
}

int btl_verbs_hello_check(const uint8_t *in, size_t len, uint64_t secret, uint32_t size,
                          btl_verbs_hello_t *h)
{
    /* librdmacm may hand more private data than was sent (padding to the
     * transport's size), never less. */
    if (in == NULL || len < BTL_VERBS_HELLO_WIRE || get16(in) != BTL_VERBS_MAGIC ||
        in[2] != BTL_VERBS_WIRE_VERSION || get64(in + 8) != secret || get32(in + 4) >= size) {
        return MRAIL_ERR_BAD_PARAM;
    }
    h->rank = get32(in + 4);
    h->secret = secret;
    return MRAIL_SUCCESS;
}

void btl_verbs_msg_pack(const btl_verbs_msg_t *m, uint8_t out[BTL_VERBS_MSG_WIRE])
{
    put32(out, m->src);
    put16(out + 4, m->hdr_len);
    out[6] = m->tag;
    out[7] = (uint8_t)BTL_VERBS_MAGIC;
}

int btl_verbs_msg_check(const uint8_t *in, size_t len, btl_verbs_msg_t *m)
{
    if (len < BTL_VERBS_MSG_WIRE || in[7] != (uint8_t)BTL_VERBS_MAGIC ||
        get16(in + 4) > len - BTL_VERBS_MSG_WIRE) {
        return MRAIL_ERR_BAD_PARAM;
    }
    m->src = get32(in);
    m->hdr_len = get16(in + 4);
    m->tag = in[6];
    m->magic = in[7];
    return MRAIL_SUCCESS;
}
