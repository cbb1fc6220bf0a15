/* The shared base of frameworks that select one component by priority. */
#include <stddef.h>
#include <stdio.h>

#include "mrail/component.h"
#include "mrail/mca.h"

static mrail_ranked_component_t *ranked(mrail_component_t *c)
{
    return (mrail_ranked_component_t *)c; /* base is the first member */
}

int mrail_ranked_register_common(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca)
{
    char prio[32], help[160];
    snprintf(prio, sizeof(prio), "%d", ranked(c)->default_priority);
    snprintf(help, sizeof(help),
             "Selection priority: the %s component with the highest priority that accepts is used",
             fw->ops->name);
    const mrail_mca_param_def_t def = {"priority",
                                       MRAIL_MCA_INT,
                                       prio,
                                       3,
                                       help,
                                       NULL,
                                       offsetof(mrail_ranked_component_t, priority)};
    return mrail_mca_register(mca, fw->ops->name, c->name, &def, 1, ranked(c));
}

int mrail_ranked_query(mrail_framework_t *fw, mrail_component_entry_t *e, mrail_reason_t *why)
{
    (void)fw;
    mrail_ranked_component_t *r = ranked(e->component);
    int priority = r->priority;
    int rc = r->query(r, &priority, why);
    if (rc == MRAIL_SUCCESS) {
        e->priority = priority;
    }
    return rc;
}
