// Test helper for the registry's fault tests (never shipped). Usage:
//   churn-registry-helper register DB COUNT NAME   (DB: a file or a postgres:// URL) registers COUNT versions of NAME, printing their numbers
//   churn-registry-helper die-mid-register DB      starts a registration and SIGKILLs itself between its writes
@_spi(Testing) import ChurnRegistry
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: churn-registry-helper register DB COUNT NAME | die-mid-register DB\n".utf8))
    exit(64)
}
let registry = try ModelRegistry(location: RegistryLocation(parsing: arguments[2]))
let artifact = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })

switch arguments[1] {
case "register":
    let count = Int(arguments[3]) ?? 1
    for index in 0..<count {
        let version = try await registry.register(
            ModelRegistration(name: arguments[4], kind: "test", pluginVersion: "1", notes: "pid \(getpid()) #\(index)"),
            artifact: artifact, user: "helper")
        print(version.version)
    }
case "die-mid-register":
    ModelRegistry.afterVersionRowForTesting = { kill(getpid(), SIGKILL) }
    _ = try await registry.register(
        ModelRegistration(name: "churn", kind: "test", pluginVersion: "1", notes: "never committed"), artifact: artifact,
        user: "helper")
    print("unreachable")
default:
    exit(64)
}
