/* The osc framework: the selected component builds each window; every
 * window in use is driven from the pml's progress hook. */
#include <stdio.h>

#include "osc_base.h"

const mrail_framework_ops_t mrail_osc_framework_ops = {
    .name = "osc",
    .description = "one-sided communication (MPI windows): the highest-priority component "
                   "that accepts builds every window",
    .policy = MRAIL_SELECT_ONE,
    .register_common = mrail_ranked_register_common,
    .query = mrail_ranked_query,
};

/* The windows in use, newest first: the one list of this framework. */
static mrail_osc_win_t *active_wins;

int mrail_osc_win_create(mrail_frameworks_t *fws, const mrail_osc_win_args_t *args,
                         mrail_osc_win_t **win, mrail_reason_t *why)
{
    mrail_framework_t *fw = mrail_frameworks_find(fws, "osc");
    if (fw == NULL || fw->selected == NULL || fw->selected->component == NULL) {
        return mrail_reason_set(why, MRAIL_ERR_NOT_FOUND,
                                "no osc component was selected (see mrail_info osc)");
    }
    mrail_osc_component_t *c = (mrail_osc_component_t *)fw->selected->component;
    /* The list is what the progress thread's hook walks: changed under
     * the pml's lock. */
    mrail_pml_lock(mrail_obj.pml);
    int rc = c->win_create(c, args, win, why);
    if (rc == MRAIL_SUCCESS) {
        (*win)->comm = args->comm;
        (*win)->flavor = args->flavor;
        (*win)->next_active = active_wins;
        active_wins = *win;
        if (mrail_obj.pml->hook == NULL) {
            mrail_pml_set_hook(mrail_obj.pml, mrail_osc_progress_all, NULL);
        }
    }
    mrail_pml_unlock(mrail_obj.pml);
    return rc;
}

int mrail_osc_win_free(mrail_osc_win_t *win)
{
    mrail_pml_lock(mrail_obj.pml);
    /* The window stays in the list while its free completes what other
     * processes sent it (a fence inside); the list is unchanged meanwhile
     * (windows are made and freed by this thread), so its successor is
     * known before and unlinked after. */
    mrail_osc_win_t *next = win->next_active;
    int rc = win->ops->free(win);
    for (mrail_osc_win_t **p = &active_wins; *p != NULL; p = &(*p)->next_active) {
        if (*p == win) {
            *p = next;
            break;
        }
    }
    if (active_wins == NULL) {
        mrail_pml_set_hook(mrail_obj.pml, NULL, NULL);
    }
    mrail_pml_unlock(mrail_obj.pml);
    if (active_wins == NULL) { /* outside the lock: stopping it removes the lock */
        mrail_osc_thread_stop();
    }
    return rc;
}

int mrail_osc_progress_all(void *unused)
{
    (void)unused;
    int events = 0;
    for (mrail_osc_win_t *w = active_wins; w != NULL; w = w->next_active) {
        events += w->ops->progress(w);
    }
    return events;
}
