/* Compiled as part of the mpiobj layer (target mrail_layer_probe, never
 * built by default): it includes a header of the coll layer above it,
 * which the build must refuse. */
#include "coll_base.h"
