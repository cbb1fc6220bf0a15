/* Unknown parameter names: warn, and say which known names are closest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mca_internal.h"

#define MAX_SUGGESTIONS 3

/* Fills out with up to three registered names closest to name. */
static void suggest(const mrail_mca_t *mca, const char *name, char *out, size_t len)
{
    size_t cap = strlen(name) / 4 < 2 ? 2 : strlen(name) / 4;
    const char *best[MAX_SUGGESTIONS] = {0};
    size_t dist[MAX_SUGGESTIONS];
    size_t nbest = 0;
    for (size_t i = 0; i < mca->param_count; i++) {
        const char *cand = mca->params[i]->pub.full_name;
        size_t d = mca_edit_distance(name, cand, cap);
        if (d > cap) {
            continue;
        }
        size_t pos = nbest < MAX_SUGGESTIONS ? nbest++ : MAX_SUGGESTIONS;
        if (pos == MAX_SUGGESTIONS && d >= dist[MAX_SUGGESTIONS - 1]) {
            continue;
        }
        if (pos == MAX_SUGGESTIONS) {
            pos = MAX_SUGGESTIONS - 1;
        }
        while (pos > 0 && dist[pos - 1] > d) {
            best[pos] = best[pos - 1];
            dist[pos] = dist[pos - 1];
            pos--;
        }
        best[pos] = cand;
        dist[pos] = d;
    }
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < nbest && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%s",
                                 i ? (i + 1 == nbest ? " or " : ", ") : "", best[i]);
    }
}

void mrail_mca_check_unknown(mrail_mca_t *mca, const char *const *dormant)
{
    for (size_t i = 0; i < mca->setting_count; i++) {
        mca_setting_t *s = &mca->settings[i];
        if (s->used) {
            continue;
        }
        const char *reason = NULL;
        for (const char *const *d = dormant; d && d[0] && d[1]; d += 2) {
            if (strncmp(s->name, d[0], strlen(d[0])) == 0) {
                reason = d[1];
                break;
            }
        }
        if (reason != NULL) {
            mrail_mca_diag_add(mca, MRAIL_DIAG_WARNING,
                               "MCA parameter %s (set by %s) is not used: it belongs to a "
                               "component that is not loaded (%s)",
                               s->name, s->origin, reason);
            continue;
        }
        char hint[512];
        suggest(mca, s->name, hint, sizeof(hint));
        mrail_mca_diag_add(mca, MRAIL_DIAG_WARNING,
                           "unknown MCA parameter %s (set by %s) is ignored%s%s%s", s->name,
                           s->origin, hint[0] ? "; did you mean " : "", hint,
                           hint[0] ? "?" : " (mrail_info --all lists every parameter)");
    }
}
