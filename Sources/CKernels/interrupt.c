/* Ctrl-C during training: the first SIGINT (or SIGTERM) only sets a flag that the training loop polls,
   so the run stops between batches with every completed epoch saved; a second one ends the process
   at once, as usual. */
#include "CKernels.h"
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t requested = 0;

static void on_signal(int number) {
    if (requested) {
        signal(number, SIG_DFL);
        raise(number);
        return;
    }
    requested = 1;
}

void fl_install_interrupt_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

int fl_interrupt_requested(void) { return requested; }
