/* Active-message dispatch and error reporting shared by every module. */
#include <stdarg.h>
#include <stdio.h>

#include "mrail/btl.h"

int mrail_btl_am_register(mrail_btl_am_table_t *table, mrail_btl_tag_t tag, mrail_btl_recv_fn_t fn,
                          void *ctx)
{
    if (tag > MRAIL_BTL_TAG_MAX) {
        return MRAIL_ERR_BAD_PARAM;
    }
    table->tag[tag].fn = fn;
    table->tag[tag].ctx = ctx;
    return MRAIL_SUCCESS;
}

int mrail_btl_am_register_place(mrail_btl_am_table_t *table, mrail_btl_tag_t tag,
                                mrail_btl_place_fn_t fn)
{
    if (tag > MRAIL_BTL_TAG_MAX) {
        return MRAIL_ERR_BAD_PARAM;
    }
    table->tag[tag].place = fn;
    return MRAIL_SUCCESS;
}

bool mrail_btl_am_may_place(const mrail_btl_module_t *module, mrail_btl_tag_t tag)
{
    const mrail_btl_am_table_t *am = module->am;
    return am != NULL && tag <= MRAIL_BTL_TAG_MAX && am->tag[tag].place != NULL &&
           am->tag[tag].fn != NULL;
}

bool mrail_btl_am_place(mrail_btl_module_t *module, uint32_t peer, mrail_btl_tag_t tag,
                        const void *hdr, size_t hdr_len, size_t payload_len, mrail_btl_place_t *out)
{
    mrail_btl_am_table_t *am = module->am;
    out->niov = 0;
    if (tag > MRAIL_BTL_TAG_MAX || am->tag[tag].place == NULL || am->tag[tag].fn == NULL) {
        return false;
    }
    am->tag[tag].place(module, peer, tag, hdr, hdr_len, payload_len, out, am->tag[tag].ctx);
    size_t len = 0;
    for (int i = 0; i < out->niov && i < MRAIL_BTL_PLACE_IOV; i++) {
        len += out->iov[i].iov_len;
    }
    /* A place that does not hold exactly the payload is not used. */
    if (out->niov <= 0 || out->niov > MRAIL_BTL_PLACE_IOV || len != payload_len ||
        out->live == NULL) {
        out->niov = 0;
    }
    return out->niov > 0;
}

void mrail_btl_report_error(mrail_btl_module_t *module, uint32_t peer, int status, const char *fmt,
                            ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mrail_btl_am_table_t *am = module->am;
    if (am != NULL && am->on_error != NULL) {
        am->on_error(module, peer, status, what, am->error_ctx);
    }
}

void mrail_btl_am_deliver(mrail_btl_module_t *module, mrail_btl_endpoint_t *ep, uint32_t peer,
                          mrail_btl_tag_t tag, const struct iovec *segs, int nsegs)
{
    mrail_btl_am_table_t *am = module->am;
    if (tag <= MRAIL_BTL_TAG_MAX && am->tag[tag].fn != NULL) {
        am->tag[tag].fn(module, ep, peer, tag, segs, nsegs, am->tag[tag].ctx);
        return;
    }
    mrail_btl_report_error(module, peer, MRAIL_ERR_NOT_FOUND,
                           "%s: message with tag %u from rank %u, for which nothing is registered",
                           module->name, tag, peer);
}
