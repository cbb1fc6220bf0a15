/* The coll framework: one component per job, the highest priority wins. */
#include <stddef.h>
#include <stdio.h>

#include "mrail/coll.h"

static mrail_coll_component_t *coll_of(mrail_component_t *c)
{
    return (mrail_coll_component_t *)c; /* base is the first member */
}

static int coll_base_register_common(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca)
{
    (void)fw;
    char prio[32];
    snprintf(prio, sizeof(prio), "%d", coll_of(c)->default_priority);
    const mrail_mca_param_def_t def = {
        "priority",
        MRAIL_MCA_INT,
        prio,
        3,
        "Selection priority: the coll component with the highest priority that accepts is used",
        NULL,
        offsetof(mrail_coll_component_t, priority)};
    return mrail_mca_register(mca, "coll", c->name, &def, 1, coll_of(c));
}

static int coll_base_query(mrail_framework_t *fw, mrail_component_entry_t *e, mrail_reason_t *why)
{
    (void)fw;
    mrail_coll_component_t *coll = coll_of(e->component);
    int priority = coll->priority;
    int rc = coll->query(coll, &priority, why);
    if (rc == MRAIL_SUCCESS) {
        e->priority = priority;
    }
    return rc;
}

const mrail_framework_ops_t mrail_coll_framework_ops = {
    .name = "coll",
    .description = "collective algorithms for MPI: one component, the highest priority wins",
    .policy = MRAIL_SELECT_ONE,
    .register_common = coll_base_register_common,
    .query = coll_base_query,
};
