/* The pml framework: one component per job, the highest priority wins. */
#include <stddef.h>
#include <stdio.h>

#include "mrail/pml.h"

static mrail_pml_component_t *pml_of(mrail_component_t *c)
{
    return (mrail_pml_component_t *)c; /* base is the first member */
}

static int pml_base_register_common(mrail_framework_t *fw, mrail_component_t *c, mrail_mca_t *mca)
{
    (void)fw;
    char prio[32];
    snprintf(prio, sizeof(prio), "%d", pml_of(c)->default_priority);
    const mrail_mca_param_def_t def = {
        "priority",
        MRAIL_MCA_INT,
        prio,
        3,
        "Selection priority: the pml with the highest priority that accepts is used",
        NULL,
        offsetof(mrail_pml_component_t, priority)};
    return mrail_mca_register(mca, "pml", c->name, &def, 1, pml_of(c));
}

static int pml_base_query(mrail_framework_t *fw, mrail_component_entry_t *e, mrail_reason_t *why)
{
    (void)fw;
    mrail_pml_component_t *pml = pml_of(e->component);
    int priority = pml->priority;
    int rc = pml->query(pml, &priority, why);
    if (rc == MRAIL_SUCCESS) {
        e->priority = priority;
    }
    return rc;
}

const mrail_framework_ops_t mrail_pml_framework_ops = {
    .name = "pml",
    .description = "point-to-point messaging: one component, the highest priority wins",
    .policy = MRAIL_SELECT_ONE,
    .register_common = pml_base_register_common,
    .query = pml_base_query,
};
