#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why a path beneath a ``ConfinedFolder`` cannot be opened. Each case names the component of
/// the path (relative to the folder) where resolution stopped, never anything read from a file.
enum ConfinedPathError: Error, Sendable, Equatable {
    /// A component is a symlink: churnd never follows one beneath a root.
    case symlink(component: String)
    /// A component does not exist.
    case missing(component: String)
    /// A component that must be a folder is something else.
    case notAFolder(component: String)
    /// The file is not a regular file (a FIFO, a device, a socket or a folder).
    case notARegularFile(component: String, kind: String)
    /// The file (or the export's temporary file) exists already.
    case exists(component: String)
    /// The system refused, for another reason.
    case system(component: String, operation: String, errno: Int32)

    /// What a person reads, naming the component.
    var reason: String {
        switch self {
        case .symlink(let component):
            "\(component) is a symlink: churnd follows none beneath its roots (name the real file)"
        case .missing(let component): "\(component) does not exist"
        case .notAFolder(let component): "\(component) is not a folder"
        case .notARegularFile(let component, let kind):
            "\(component) is \(kind), not a regular file: churnd reads only regular files"
        case .exists(let component): "\(component) exists"
        case .system(let component, let operation, let code):
            "cannot \(operation) \(component): \(String(cString: strerror(code)))"
        }
    }
}

/// A folder the operator allowed (`--data-root`, `--export-root`), opened once when churnd
/// starts and afterwards used only through its descriptor.
///
/// Checking a path and then opening it is a race: a folder swapped for a symlink between the
/// two sends the open elsewhere. Here every path beneath the folder is resolved one component at
/// a time with `openat(…, O_NOFOLLOW)` from the folder's own descriptor, so no symlink, and no
/// folder swapped for one while a request runs, can lead outside it. Files are opened
/// non-blocking and checked to be regular files before anything is read, so a FIFO never
/// blocks a request. Writes go to a temporary file created inside the opened target folder and
/// are renamed (or linked, when nothing may be replaced) there.
final class ConfinedFolder: Sendable {
    /// The folder, absolute, with symlinks resolved once when churnd started.
    let path: String
    /// The folder as the operator spelled it (absolute), also accepted in requests.
    let configuredPath: String
    private let descriptor: Int32

    /// Opens `path` (absolute), which must be a folder.
    init(path: String, configuredPath: String) throws(ConfinedPathError) {
        self.path = path
        self.configuredPath = configuredPath
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(component: path, operation: "open the folder", errno: errno) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The components of `absolute` beneath this folder, or nil when it is not beneath it
    /// (lexically: `absolute` carries no `..`, which callers refuse first).
    func components(of absolute: String) -> [String]? {
        for base in [path, configuredPath] {
            let prefix = base.hasSuffix("/") ? base : base + "/"
            if absolute.hasPrefix(prefix) {
                let rest = absolute.dropFirst(prefix.count).split(separator: "/").map(String.init).filter { $0 != "." }
                return rest.isEmpty ? nil : rest
            }
        }
        return nil
    }

    /// A regular file beneath the folder, opened for reading (blocking reads), close-on-exec.
    /// The caller owns the descriptor.
    func openFile(_ components: [String]) throws(ConfinedPathError) -> Int32 {
        let (folder, name) = try openParent(components)
        defer { close(folder) }
        let shown = components.joined(separator: "/")
        let file = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard file >= 0 else { throw Self.failure(errno, component: shown, operation: "open") }
        var status = stat()
        guard fstat(file, &status) == 0 else {
            let code = errno
            close(file)
            throw .system(component: shown, operation: "inspect", errno: code)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(file)
            throw .notARegularFile(component: shown, kind: Self.kind(status.st_mode))
        }
        // Reads of a regular file never block for long; clear O_NONBLOCK for ordinary readers.
        _ = fcntl(file, F_SETFL, fcntl(file, F_GETFL) & ~O_NONBLOCK)
        return file
    }

    /// True when an entry exists at `components` (symlinks not followed); a symlink there is
    /// refused, so an export never replaces one.
    func exists(_ components: [String]) throws(ConfinedPathError) -> Bool {
        let (folder, name) = try openParent(components)
        defer { close(folder) }
        var status = stat()
        guard fstatat(folder, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        if (status.st_mode & S_IFMT) == S_IFLNK { throw .symlink(component: components.joined(separator: "/")) }
        return true
    }

    /// Writes `bytes` to `components` atomically: a temporary file created in the opened target
    /// folder (mode `mode`, the folder's group where churnd may set it), synced, then renamed
    /// over the target (`overwrite`) or linked to its name (failing when it exists). Nothing is
    /// left behind on failure.
    func write(_ bytes: Data, to components: [String], overwrite: Bool, mode: mode_t = 0o640) throws(ConfinedPathError) {
        let (folder, name) = try openParent(components)
        defer { close(folder) }
        let shown = components.joined(separator: "/")
        let temporary = ".\(name).\(UUID().uuidString.prefix(8).lowercased()).partial"
        let file = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard file >= 0 else { throw Self.failure(errno, component: shown, operation: "create a file in the folder of") }
        func fail(_ error: ConfinedPathError) -> ConfinedPathError {
            close(file)
            unlinkat(folder, temporary, 0)
            return error
        }
        fchmod(file, mode)
        var folderStatus = stat()
        if fstat(folder, &folderStatus) == 0 { _ = fchown(file, uid_t.max, folderStatus.st_gid) }
        if let code = writeAll(bytes, to: file) { throw fail(.system(component: shown, operation: "write", errno: code)) }
        guard fsync(file) == 0 else { throw fail(.system(component: shown, operation: "sync", errno: errno)) }
        close(file)
        if overwrite {
            guard renameat(folder, temporary, folder, name) == 0 else {
                let code = errno
                unlinkat(folder, temporary, 0)
                throw Self.failure(code, component: shown, operation: "replace")
            }
        } else {
            let linked = linkat(folder, temporary, folder, name, 0)
            let code = errno
            unlinkat(folder, temporary, 0)
            guard linked == 0 else {
                throw code == EEXIST ? .exists(component: shown) : Self.failure(code, component: shown, operation: "create")
            }
        }
        fsync(folder)
    }

    /// The folder holding the last component, opened beneath this folder without following
    /// any symlink, and the last component's name. The caller closes the descriptor.
    private func openParent(_ components: [String]) throws(ConfinedPathError) -> (Int32, String) {
        guard let name = components.last else { throw .notARegularFile(component: ".", kind: "the root folder itself") }
        var current = dup(descriptor)
        guard current >= 0 else { throw .system(component: ".", operation: "open", errno: errno) }
        for (index, component) in components.dropLast().enumerated() {
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(current)
            guard next >= 0 else {
                throw Self.failure(code, component: components[...index].joined(separator: "/"), operation: "open the folder")
            }
            current = next
        }
        return (current, name)
    }

    private static func failure(_ code: Int32, component: String, operation: String) -> ConfinedPathError {
        switch code {
        case ELOOP: .symlink(component: component)
        case ENOENT: .missing(component: component)
        case ENOTDIR: .notAFolder(component: component)
        case EEXIST: .exists(component: component)
        default: .system(component: component, operation: operation, errno: code)
        }
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symlink"
        default: "not a regular file"
        }
    }
}

/// Writes all of `bytes` to the open file `descriptor` (retrying short writes and EINTR);
/// the errno when that failed, else nil.
func writeAll(_ bytes: Data, to descriptor: Int32) -> Int32? {
    bytes.withUnsafeBytes { raw -> Int32? in
        var offset = 0
        while offset < raw.count {
            let count = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += count
        }
        return nil
    }
}
