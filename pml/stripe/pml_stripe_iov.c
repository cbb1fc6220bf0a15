/* Messages in pieces: a request whose buffer is an iovec list (a
 * non-contiguous MPI datatype). Sends hand the btl the pieces of each
 * fragment; arrivals are copied straight into the pieces: no packing. */
#include <stdlib.h>
#include <string.h>

#include "mrail/copy.h"
#include "pml_stripe.h"

int pml_iov_prepare(mrail_pml_request_t *req, const struct iovec *iov, int niov)
{
    req->iov = iov;
    req->niov = niov;
    req->iov_at = malloc((size_t)(niov + 1) * sizeof(size_t));
    if (req->iov_at == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    size_t at = 0;
    for (int i = 0; i < niov; i++) {
        req->iov_at[i] = at;
        at += iov[i].iov_len;
    }
    req->iov_at[niov] = at;
    req->len = at;
    return MRAIL_SUCCESS;
}

/* The piece holding message offset at (binary search). */
static int piece_of(const mrail_pml_request_t *req, size_t at)
{
    int lo = 0, hi = req->niov - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (req->iov_at[mid] <= at) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

void pml_copy_in(mrail_pml_request_t *req, size_t at, const void *src, size_t n)
{
    if (n == 0) {
        return;
    }
    if (req->iov == NULL) {
        if ((char *)req->buf + at != src) { /* a btl may have put it in place */
            mrail_copy((char *)req->buf + at, src, n);
        }
        return;
    }
    const char *from = src;
    for (int i = piece_of(req, at); n > 0 && i < req->niov; i++) {
        size_t skip = at - req->iov_at[i], room = req->iov[i].iov_len - skip;
        size_t k = n < room ? n : room;
        if (k > 0 && (char *)req->iov[i].iov_base + skip != from) {
            mrail_copy((char *)req->iov[i].iov_base + skip, from, k);
        }
        from += k, at += k, n -= k;
    }
}

int pml_iov_slice(const mrail_pml_request_t *req, size_t at, size_t len, struct iovec *out, int max)
{
    int n = 0;
    for (int i = len ? piece_of(req, at) : req->niov; len > 0 && i < req->niov; i++) {
        size_t skip = at - req->iov_at[i], room = req->iov[i].iov_len - skip;
        size_t k = len < room ? len : room;
        if (k == 0) {
            continue;
        }
        if (n == max) {
            return -1;
        }
        out[n++] = (struct iovec){(char *)req->iov[i].iov_base + skip, k};
        at += k, len -= k;
    }
    return n;
}
