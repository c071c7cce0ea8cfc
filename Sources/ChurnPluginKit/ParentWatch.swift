#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging

/// Ends the plugin at once when the churnd that started it is gone (`--exit-with-parent`), even
/// in the middle of training: nobody is left to take its answer, and an artifact finished after
/// churnd died would only fill the disk.
///
/// churnd gives each plugin a pipe as its standard input and never writes to it. The kernel
/// closes churnd's end when churnd exits, however it exits (SIGKILL included), so the plugin
/// reads end of file at that moment; a thread of its own blocks on that read, so a busy event
/// loop or a long training cannot delay it. Not `PR_SET_PDEATHSIG`: on Linux it fires when the
/// *thread* that started the plugin ends, and churnd starts plugins from pool threads that come
/// and go. When standard input is not a pipe (a plugin started by hand with `--exit-with-parent`),
/// the watch polls the parent process id instead.
enum ParentWatch {
    /// Starts watching on a thread of its own.
    static func start(logger: Logger) {
        let thread = Thread { watch(logger: logger) }
        thread.name = "parent-watch"
        thread.start()
    }

    private static func watch(logger: Logger) -> Never {
        if standardInputIsPipe() {
            var byte: UInt8 = 0
            // churnd never writes: anything read is ignored, end of file (or an error) ends the plugin.
            while true {
                let count = read(STDIN_FILENO, &byte, 1)
                if count == 0 || (count < 0 && errno != EINTR) { break }
            }
            logger.notice("churnd is gone (its pipe on standard input closed); stopping now")
        } else {
            let parent = getppid()
            while getppid() == parent { usleep(250_000) }
            logger.notice("parent process \(parent) is gone; stopping now")
        }
        exit(0)
    }

    private static func standardInputIsPipe() -> Bool {
        var status = stat()
        guard fstat(STDIN_FILENO, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFIFO
    }
}
