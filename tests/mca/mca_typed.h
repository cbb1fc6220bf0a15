/* One MCA parameter of every type, with the config struct they land in:
 * the type tests and the parameter-file fuzz harness register it. */
#ifndef MRAIL_TEST_MCA_TYPED_H
#define MRAIL_TEST_MCA_TYPED_H

#include <stdbool.h>
#include <stddef.h>

#include "mrail/mca.h"

typedef struct typed_config {
    int i;
    unsigned u;
    size_t sz;
    bool b;
    const char *s;
    int e;
    mrail_mca_list_t l;
} typed_config_t;

static const char *const colours[] = {"red", "green", "blue", NULL};

static const mrail_mca_param_def_t typed_defs[] = {
    {"i", MRAIL_MCA_INT, "-7", 1, "an int", NULL, offsetof(typed_config_t, i)},
    {"u", MRAIL_MCA_UNSIGNED, "7", 1, "an unsigned", NULL, offsetof(typed_config_t, u)},
    {"sz", MRAIL_MCA_SIZE, "4k", 1, "a size", NULL, offsetof(typed_config_t, sz)},
    {"b", MRAIL_MCA_BOOL, "yes", 1, "a bool", NULL, offsetof(typed_config_t, b)},
    {"s", MRAIL_MCA_STRING, "hello", 1, "a string", NULL, offsetof(typed_config_t, s)},
    {"e", MRAIL_MCA_ENUM, "green", 1, "an enum", colours, offsetof(typed_config_t, e)},
    {"l", MRAIL_MCA_LIST, "a, b ,c", 1, "a list", NULL, offsetof(typed_config_t, l)},
};

#endif
