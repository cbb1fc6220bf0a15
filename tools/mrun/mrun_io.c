/* Rank output passes through line by line, so that lines of different
 * ranks never mix, optionally tagged like Open MPI's --tag-output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrun.h"

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* our own stdout is gone: nothing left to tell */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void emit(const mrun_job_t *job, const mrun_rank_t *r, int out_fd, const char *line,
                 size_t len)
{
    if (job->opts->output_dir != NULL) {
        write_all(out_fd == STDERR_FILENO ? r->file_err : r->file_out, line, len);
        if (!job->opts->output_copy) {
            return;
        }
    }
    if (!job->opts->tag_output) {
        write_all(out_fd, line, len);
        return;
    }
    /* One write per line keeps the tag and the text together. */
    char *buf = malloc(len + 64);
    if (buf == NULL) {
        write_all(out_fd, line, len);
        return;
    }
    int tag =
        snprintf(buf, 64, "[1,%u]<%s>:", r->rank, out_fd == STDERR_FILENO ? "stderr" : "stdout");
    memcpy(buf + tag, line, len);
    write_all(out_fd, buf, (size_t)tag + len);
    free(buf);
}

void mrun_io_drain(mrun_job_t *job, mrun_rank_t *r, mrun_stream_t *s, int out_fd, bool eof)
{
    for (;;) {
        if (s->cap - s->len < 4096) {
            size_t ncap = s->cap ? 2 * s->cap : 8192;
            char *nbuf = realloc(s->buf, ncap);
            if (nbuf == NULL) {
                break;
            }
            s->buf = nbuf;
            s->cap = ncap;
        }
        ssize_t n = s->fd >= 0 ? read(s->fd, s->buf + s->len, s->cap - s->len) : 0;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n <= 0) {
            eof = true;
            break;
        }
        s->len += (size_t)n;
        char *start = s->buf, *nl;
        while ((nl = memchr(start, '\n', s->len - (size_t)(start - s->buf))) != NULL) {
            emit(job, r, out_fd, start, (size_t)(nl - start) + 1);
            start = nl + 1;
        }
        s->len -= (size_t)(start - s->buf);
        memmove(s->buf, start, s->len);
    }
    if (eof) {
        if (s->len > 0) {
            emit(job, r, out_fd, s->buf, s->len);
            s->len = 0;
        }
        if (s->fd >= 0) {
            close(s->fd);
            s->fd = -1;
        }
    }
}
