/* libFuzzer harness: an MCA parameter file, and the values in it.
 *
 * The input is the file (MRAIL_MCA_PARAM_FILES names it, through a
 * memfd). It is read as mrail_mca_open reads any parameter file; then a
 * table with one parameter of each type is registered, so that every
 * value the file gives them is parsed (sizes with suffixes, numbers out of
 * range, enum and bool names, lists), and the unknown-name check runs
 * over what is left. Checked besides the sanitizers: an open that fails
 * says why, and every diagnostic has text. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mca_typed.h"
#include "mrail/mca.h"

static void fail_check(const char *what)
{
    fprintf(stderr, "fuzz_mca_file: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("mca-params.conf", MFD_CLOEXEC)) < 0) {
        fail_check("memfd_create failed");
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
        fail_check("cannot write the file");
    }
    char files[64];
    snprintf(files, sizeof(files), "MRAIL_MCA_PARAM_FILES=/proc/self/fd/%d", fd);
    char *envp[] = {files, NULL};
    mrail_mca_open_opts_t opts = {.envp = envp, .sysconfdir = "/nonexistent"};
    mrail_mca_t *mca = NULL;
    mrail_reason_t why = {0};
    if (mrail_mca_open(&opts, &mca, &why) != MRAIL_SUCCESS) {
        if (why.text[0] == '\0') {
            fail_check("an open failed without saying why");
        }
        return 0;
    }
    typed_config_t cfg = {0};
    mrail_mca_register(mca, "fz", "x", typed_defs, sizeof(typed_defs) / sizeof(typed_defs[0]),
                       &cfg);
    mrail_mca_check_unknown(mca, NULL);
    for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
        const char *text = mrail_mca_diag_text(mca, i, NULL);
        if (text == NULL || text[0] == '\0') {
            fail_check("a diagnostic without text");
        }
    }
    mrail_mca_close(mca);
    return 0;
}
