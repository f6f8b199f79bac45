import CKernels
import Foundation

/// Ctrl-C (SIGINT) and SIGTERM as a flag to poll, for work that must clean up before it stops (a
/// download removes its partial file). The handler (CKernels' `interrupt.c`) only sets a flag: nothing
/// else is safe inside a signal handler. A second signal ends the process at once, as usual.
public enum Interruption {
    /// Installs the flag-setting handler for SIGINT and SIGTERM.
    public static func install() { fl_install_interrupt_handler() }

    /// True once SIGINT or SIGTERM arrived after `install()`.
    public static var requested: Bool { fl_interrupt_requested() != 0 }

    /// Runs `body` with the handler installed, and restores the handlers that were there before when
    /// it returns (a signal that arrived meanwhile stays recorded in `requested`).
    public static func whileHandling<T>(_ body: () throws -> T) rethrows -> T {
        var oldInterrupt = sigaction(), oldTerminate = sigaction()
        sigaction(SIGINT, nil, &oldInterrupt)
        sigaction(SIGTERM, nil, &oldTerminate)
        install()
        // A process started from a thread that blocks signals (a thread pool's) inherits that mask; the
        // signals are unblocked here so that they reach the handler at all.
        var signals = sigset_t(), oldMask = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, &oldMask)
        defer {
            pthread_sigmask(SIG_SETMASK, &oldMask, nil)
            sigaction(SIGINT, &oldInterrupt, nil)
            sigaction(SIGTERM, &oldTerminate, nil)
        }
        return try body()
    }
}
