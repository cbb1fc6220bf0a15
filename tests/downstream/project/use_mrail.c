/* A downstream program: opens mrail's frameworks and prints what it found. */
#include <mrail/btl.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    mrail_mca_t *mca;
    mrail_frameworks_t *fws;
    mrail_reason_t why;
    if (mrail_mca_open(NULL, &mca, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "%s\n", why.text);
        return 1;
    }
    int rc = mrail_frameworks_open(mca, &fws);
    if (rc == MRAIL_SUCCESS) {
        rc = mrail_frameworks_select(fws);
    }
    mrail_framework_t *btl = rc == MRAIL_SUCCESS ? mrail_frameworks_find(fws, "btl") : NULL;
    printf("mrail %s", MRAIL_VERSION_STRING);
    for (size_t i = 0; btl && i < btl->entry_count; i++) {
        mrail_component_entry_t *e = &btl->entries[i];
        if (!strcmp(e->name, "self")) {
            printf(" btl self %s", mrail_component_state_name(e->state));
        }
        if (!strcmp(e->name, "ofi")) {
            printf(", ofi plugin %s", e->plugin_path ? e->plugin_path : "(none)");
        }
    }
    printf("\n");
    mrail_frameworks_close(fws);
    mrail_mca_close(mca);
    return rc == MRAIL_SUCCESS ? 0 : 1;
}
