/* Edit distance between parameter names, for "did you mean" hints; a
 * unit of its own so that tests can compile it in (libmrail exports only
 * its API). */
#include <stdlib.h>
#include <string.h>

#include "mca_internal.h"

size_t mca_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > cap) {
        return cap + 1;
    }
    size_t *row = malloc((lb + 1) * sizeof(size_t));
    if (row == NULL) {
        return cap + 1;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            if (up + 1 < best) {
                best = up + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d > cap ? cap + 1 : d;
}
