/* The fatal signals as the program left them. Libraries that plugins pull
 * in install handlers of their own when they load or start (libucs prints
 * a backtrace, PSM2 through libfabric another, and both then exit(1)), so a
 * rank that crashes would be reported with an exit status instead of its
 * signal, and a debugger or the program's own handler would never see it. */
#include <signal.h>

#include "mca_components.h"

static const int fatal_signals[MCA_FATAL_SIGNALS] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

void mca_signals_save(mca_signals_t *saved)
{
    for (int i = 0; i < MCA_FATAL_SIGNALS; i++) {
        saved->ok[i] = sigaction(fatal_signals[i], NULL, &saved->act[i]) == 0;
    }
}

void mca_signals_restore(const mca_signals_t *saved)
{
    for (int i = 0; i < MCA_FATAL_SIGNALS; i++) {
        if (saved->ok[i]) {
            sigaction(fatal_signals[i], &saved->act[i], NULL);
        }
    }
}
