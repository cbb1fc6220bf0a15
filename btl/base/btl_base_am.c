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
