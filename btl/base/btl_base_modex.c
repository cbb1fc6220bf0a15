/* One modex blob per component and process: every module adds a
 * fixed-size entry, and a peer pairs a module with the first entry of the
 * rank's blob that the component accepts. A peer without a module on some
 * network simply has no entry for it (no key to wait for). */
#include <stdlib.h>
#include <string.h>

#include "mrail/btl.h"

#define MODEX_MAGIC 0x4d524d45u /* "MRME" */
#define MODEX_KEYS 8            /* components that publish this way */

typedef struct modex_header {
    uint32_t magic;
    uint32_t entry_size;
    uint32_t count;
    uint32_t pad;
} modex_header_t;

/* The blobs this process publishes, one per key: the registry of what
 * every module of a component has added so far. */
static struct {
    char key[32];
    size_t entry_size;
    char *blob; /* header + entries */
} published[MODEX_KEYS];

int mrail_btl_modex_add(mrail_btl_module_t *module, const char *key, const void *entry,
                        size_t entry_size, mrail_reason_t *why)
{
    int slot = -1;
    for (int i = 0; i < MODEX_KEYS && slot < 0; i++) {
        if (published[i].blob == NULL || strcmp(published[i].key, key) == 0) {
            slot = i;
        }
    }
    if (slot < 0 || strlen(key) >= sizeof(published[0].key) ||
        (published[slot].blob != NULL && published[slot].entry_size != entry_size)) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "%s: cannot publish under %s",
                                module->name, key);
    }
    modex_header_t *h = (modex_header_t *)published[slot].blob;
    uint32_t count = h != NULL ? h->count : 0;
    char *grown = realloc(published[slot].blob, sizeof(*h) + (count + 1) * entry_size);
    if (grown == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_OUT_OF_RESOURCE, "out of memory");
    }
    published[slot].blob = grown;
    strcpy(published[slot].key, key);
    published[slot].entry_size = entry_size;
    h = (modex_header_t *)grown;
    *h = (modex_header_t){
        .magic = MODEX_MAGIC, .entry_size = (uint32_t)entry_size, .count = count + 1};
    memcpy(grown + sizeof(*h) + count * entry_size, entry, entry_size);
    /* The later put of the same key replaces this one before the fence. */
    return mrail_rte_modex_put(module->rte, key, grown, sizeof(*h) + h->count * entry_size, why);
}

const void *mrail_btl_modex_entries(const void *blob, size_t len, size_t entry_size,
                                    uint32_t *count)
{
    modex_header_t h;
    *count = 0;
    if (blob == NULL || len < sizeof(h) || entry_size == 0) {
        return NULL;
    }
    memcpy(&h, blob, sizeof(h)); /* a blob from the rte has no promised alignment */
    if (h.magic != MODEX_MAGIC || h.entry_size != entry_size ||
        h.count > (len - sizeof(h)) / entry_size) {
        return NULL;
    }
    *count = h.count;
    return (const char *)blob + sizeof(h);
}

int mrail_btl_modex_pair(mrail_btl_module_t *module, const char *key, size_t entry_size,
                         const uint32_t *ranks, size_t n, mrail_btl_endpoint_t **eps,
                         mrail_btl_modex_pair_fn_t pair, mrail_reason_t *why)
{
    int rc = MRAIL_SUCCESS;
    for (size_t k = 0; k < n && rc == MRAIL_SUCCESS; k++) {
        eps[k] = NULL;
        void *blob = NULL;
        size_t len = 0;
        mrail_reason_t ignored;
        if (mrail_rte_modex_get(module->rte, ranks[k], key, &blob, &len, &ignored) !=
            MRAIL_SUCCESS) {
            continue; /* the peer has no module of this component at all */
        }
        uint32_t count = 0;
        const char *entries = mrail_btl_modex_entries(blob, len, entry_size, &count);
        for (uint32_t i = 0; i < count && eps[k] == NULL && rc == MRAIL_SUCCESS; i++) {
            rc = pair(module, ranks[k], entries + i * entry_size, &eps[k], why);
        }
        free(blob);
    }
    return rc;
}
