/* libFuzzer harness: the PML's message decoding, fed as a btl feeds it.
 *
 * A singleton job over the self btl: the input is a script of steps, each
 * either a frame handed to the PML exactly as a btl hands one in (tag,
 * header, payload; or a FRAG placed first, as btl/tcp places one), or an
 * action of the PML's own user (post a receive, send to itself, progress,
 * cancel). Headers are raw input bytes: hostile tags, lengths, offsets,
 * request numbers and contexts. Besides the sanitizers, every completed
 * receive is checked to claim no more bytes than its buffer holds. A new
 * PML is opened for each input, so inputs do not leak state into each
 * other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrail/btl.h"
#include "mrail/mca.h"
#include "mrail/pml.h"
#include "mrail/rails.h"
#include "mrail/rte.h"

#define MAX_REQS 64
#define TAG_FRAG 4 /* pml/stripe: PML_TAG_FRAG, the one tag a btl may place */

static mrail_rte_t *rte;
static mrail_mca_t *mca;
static mrail_frameworks_t *fws;

typedef struct input {
    const uint8_t *p;
    size_t left;
} input_t;

static unsigned take(input_t *in, unsigned bytes)
{
    unsigned v = 0;
    for (unsigned i = 0; i < bytes && in->left > 0; i++, in->left--) {
        v = v << 8 | *in->p++;
    }
    return v;
}

static const uint8_t *take_bytes(input_t *in, size_t *len)
{
    if (*len > in->left) {
        *len = in->left;
    }
    const uint8_t *p = in->p;
    in->p += *len;
    in->left -= *len;
    return p;
}

typedef struct posted {
    mrail_pml_request_t *req;
    void *buf;
    size_t len;
    bool recv;
} posted_t;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    setenv("MRAIL_MCA_btl", "self", 1);
    /* Small limits: rendezvous and several fragments at a few KiB, so that
     * inputs stay small and fast. */
    setenv("MRAIL_MCA_btl_self_eager_limit", "1k", 1);
    setenv("MRAIL_MCA_btl_self_max_send_size", "4k", 1);
    mrail_reason_t why;
    if (mrail_rte_init(&rte, &why) != MRAIL_SUCCESS || mrail_mca_open(NULL, &mca, &why) != 0 ||
        mrail_frameworks_open(mca, &fws) != MRAIL_SUCCESS ||
        mrail_frameworks_select(fws) != MRAIL_SUCCESS) {
        fprintf(stderr, "fuzz_pml: cannot start a singleton: %s\n", why.text);
        exit(1);
    }
    return 0;
}

/* A frame as a btl delivers it: header, then payload. A FRAG may first be
 * placed, as btl/tcp does: the payload lands where the PML says. */
static void frame(mrail_btl_module_t *m, mrail_btl_endpoint_t *ep, input_t *in, bool place)
{
    mrail_btl_tag_t tag = place ? TAG_FRAG : (mrail_btl_tag_t)(take(in, 1) % 12);
    size_t hdr_len = take(in, 2) % 600, pay_len = take(in, 2) % 16384;
    const uint8_t *hdr = take_bytes(in, &hdr_len);
    const uint8_t *pay = take_bytes(in, &pay_len);
    struct iovec segs[1 + MRAIL_BTL_PLACE_IOV] = {{(void *)hdr, hdr_len}, {(void *)pay, pay_len}};
    int nsegs = pay_len > 0 ? 2 : 1;
    mrail_btl_place_t at = {0};
    if (place && mrail_btl_am_place(m, 0, tag, hdr, hdr_len, pay_len, &at) &&
        *at.live == at.live_value) {
        size_t off = 0;
        for (int i = 0; i < at.niov; i++) {
            memcpy(at.iov[i].iov_base, pay + off, at.iov[i].iov_len);
            off += at.iov[i].iov_len;
            segs[1 + i] = at.iov[i];
        }
        nsegs = 1 + at.niov;
    }
    mrail_btl_am_deliver(m, ep, 0, tag, segs, nsegs);
}

static void post(mrail_pml_t *pml, input_t *in, posted_t *reqs, int *n)
{
    if (*n == MAX_REQS) {
        return;
    }
    bool recv = take(in, 1) & 1;
    size_t len = take(in, 2) % 16384;
    int32_t tag = (int32_t)(take(in, 1) % 4);
    uint32_t ctx = take(in, 1) % 4;
    posted_t *p = &reqs[*n];
    *p = (posted_t){.buf = malloc(len ? len : 1), .len = len, .recv = recv};
    if (p->buf == NULL) {
        return;
    }
    int rc;
    if (recv) {
        int32_t src = take(in, 1) & 1 ? MRAIL_PML_ANY_SOURCE : 0;
        rc = mrail_pml_irecv(pml, p->buf, len, src, tag == 3 ? MRAIL_PML_ANY_TAG : tag, ctx,
                             &p->req);
    } else {
        rc = mrail_pml_isend(pml, p->buf, len, 0, tag, ctx, take(in, 1) & 1, &p->req);
    }
    if (rc != MRAIL_SUCCESS) {
        free(p->buf);
        return;
    }
    (*n)++;
}

static void check_done(mrail_pml_t *pml, posted_t *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        mrail_pml_status_t st;
        if (reqs[i].recv && mrail_pml_test(pml, reqs[i].req, &st) && st.count > reqs[i].len) {
            fprintf(stderr, "fuzz_pml: a receive of %zu bytes claims %zu\n", reqs[i].len, st.count);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mrail_pml_t *pml;
    mrail_reason_t why;
    if (mrail_pml_open(rte, fws, &pml, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "fuzz_pml: cannot open the pml: %s\n", why.text);
        abort();
    }
    const mrail_rail_t *rail = &mrail_rail_table_peer(&mrail_pml_rails(pml)->table, 0)->rails[0];
    posted_t reqs[MAX_REQS];
    int n = 0;
    input_t in = {data, size};
    while (in.left > 0) {
        switch (take(&in, 1) % 6) {
        case 0:
        case 1: frame(rail->module, rail->ep, &in, false); break;
        case 2: frame(rail->module, rail->ep, &in, true); break;
        case 3: post(pml, &in, reqs, &n); break;
        case 4:
            for (unsigned k = take(&in, 1) % 8; k > 0; k--) {
                mrail_pml_progress(pml);
            }
            break;
        default:
            if (n > 0) {
                mrail_pml_cancel(pml, reqs[take(&in, 1) % n].req);
            }
            break;
        }
        check_done(pml, reqs, n);
    }
    for (int k = 0; k < 4; k++) {
        mrail_pml_progress(pml);
    }
    check_done(pml, reqs, n);
    for (int i = 0; i < n; i++) {
        mrail_pml_cancel(pml, reqs[i].req);
        mrail_pml_request_free(pml, reqs[i].req);
        free(reqs[i].buf);
    }
    mrail_pml_close(pml);
    return 0;
}
