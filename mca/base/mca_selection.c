/* The <framework> selection parameter: "a,b" keeps only a and b,
 * "^a,b" keeps all but a and b. Mixing the two forms is an error. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mca_components.h"
#include "mca_internal.h"

void mca_selection_free(mca_selection_t *sel)
{
    for (size_t i = 0; i < sel->count; i++) {
        free(sel->names[i]);
    }
    free(sel->names);
    sel->names = NULL;
    sel->count = 0;
}

int mca_selection_parse(const char *text, mca_selection_t *sel, mrail_reason_t *why)
{
    *sel = (mca_selection_t){true, 0, NULL};
    mrail_mca_list_t list = {0, NULL};
    mrail_reason_t item_why;
    if (mca_value_parse(MRAIL_MCA_LIST, NULL, text, &list, &list, &item_why) != MRAIL_SUCCESS) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "\"%s\": %s", text, item_why.text);
    }
    if (list.count == 0) {
        return MRAIL_SUCCESS;
    }
    sel->exclude = list.items[0][0] == '^';
    for (size_t i = 0; i < list.count; i++) {
        const char *item = list.items[i];
        if (item[0] == '^' && !sel->exclude) {
            mca_list_free(&list);
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                    "\"%s\" mixes inclusion and exclusion: use either a,b "
                                    "(only these) or ^a,b (all but these)",
                                    text);
        }
        /* "^a,b" excludes both; "^a,^b" says the same and is allowed. */
        if (item[0] == '^') {
            memmove(list.items[i], item + 1, strlen(item));
            while (isspace((unsigned char)list.items[i][0])) {
                memmove(list.items[i], list.items[i] + 1, strlen(list.items[i]));
            }
        }
        if (list.items[i][0] == '\0') {
            mca_list_free(&list);
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                    "\"%s\": '^' must be followed by a component name", text);
        }
    }
    sel->count = list.count;
    sel->names = list.items;
    return MRAIL_SUCCESS;
}

bool mca_selection_names(const mca_selection_t *sel, const char *name)
{
    for (size_t i = 0; i < sel->count; i++) {
        if (strcmp(sel->names[i], name) == 0) {
            return true;
        }
    }
    return false;
}
