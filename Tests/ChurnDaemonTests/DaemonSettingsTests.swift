import ChurnRegistry
import Foundation
import Logging
import Testing

@testable import ChurnDaemon

/// Where each of churnd's settings comes from: a flag, else the environment, else the config
/// file, else the default; lists add up in that order; every bad value is refused naming it.
@Suite("Daemon settings")
struct DaemonSettingsTests {
    /// A home folder with `config` as its `churnd.json` (none when nil).
    private func home(config: String?) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("churnd-settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let config { try config.write(toFile: folder + "/churnd.json", atomically: true, encoding: .utf8) }
        return folder
    }

    private func resolve(_ flags: DaemonSettings, environment: [String: String] = [:]) throws -> (DaemonConfiguration, Logger.Level) {
        try DaemonLauncher.configuration(from: flags, environment: environment)
    }

    private static let file = """
        {"socket": "/tmp/from-file.sock", "log_level": "warning", "registry": "/tmp/from-file.sqlite",
         "plugin_paths": ["/file/plugins"], "batch_window_ms": 2, "max_batch": 64, "predict_timeout_seconds": 7,
         "health_check_interval_seconds": 9, "log_predictions": false, "max_frame_bytes": 4096, "registry_poll_ms": 250}
        """

    @Test func aFlagBeatsTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: Self.file)
        let environment = [
            "CHURN_SOCKET": "/tmp/from-env.sock", "CHURN_LOG_LEVEL": "debug", "CHURN_REGISTRY": "/tmp/from-env.sqlite",
        ]
        // The file alone.
        let (fromFile, fileLevel) = try resolve(flags)
        #expect(fromFile.socketPath == "/tmp/from-file.sock")
        #expect(fileLevel == .warning)
        #expect(fromFile.registryLocation == .sqlite(path: "/tmp/from-file.sqlite"))
        // The environment over the file.
        let (fromEnvironment, environmentLevel) = try resolve(flags, environment: environment)
        #expect(fromEnvironment.socketPath == "/tmp/from-env.sock")
        #expect(environmentLevel == .debug)
        #expect(fromEnvironment.registryLocation == .sqlite(path: "/tmp/from-env.sqlite"))
        // Flags over both.
        flags.socket = "/tmp/from-flag.sock"
        flags.logLevel = .error
        flags.registry = "/tmp/from-flag.sqlite"
        flags.batchWindowMilliseconds = 5
        flags.maximumFramePayload = 8192
        flags.registryPollMilliseconds = 500
        let (fromFlags, flagLevel) = try resolve(flags, environment: environment)
        #expect(fromFlags.socketPath == "/tmp/from-flag.sock")
        #expect(flagLevel == .error)
        #expect(fromFlags.registryLocation == .sqlite(path: "/tmp/from-flag.sqlite"))
        #expect(fromFlags.batching.window == .milliseconds(5))
        #expect(fromFlags.maximumFramePayload == 8192)
        #expect(fromFlags.registryPoll == .milliseconds(500))
        #expect(fromFile.batching.window == .milliseconds(2))
        #expect(fromFile.maximumFramePayload == 4096)
        #expect(fromFile.registryPoll == .milliseconds(250))
    }

    @Test func settingsOnlyTheFileHasAreRead() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: Self.file)
        let (configuration, _) = try resolve(flags)
        #expect(configuration.batching.maximumRows == 64)
        #expect(configuration.predictTimeout == .seconds(7))
        #expect(configuration.plugins.healthCheckInterval == .seconds(9))
        #expect(configuration.logPredictions == false)
    }

    @Test func withoutAFileEverySettingHasItsDefault() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: nil)
        let (configuration, level) = try resolve(flags)
        #expect(level == .info)
        #expect(configuration.socketPath == flags.home! + "/churnd.sock" || configuration.socketPath.hasSuffix("/churn/churnd.sock"))
        #expect(configuration.registryLocation == .sqlite(path: flags.home! + "/registry.sqlite"))
        #expect(configuration.batching.enabled && configuration.batching.window == .zero && configuration.batching.maximumRows == 512)
        #expect(configuration.predictTimeout == .seconds(30))
        #expect(configuration.logPredictions)
        #expect(configuration.pluginSearchPaths.isEmpty)
    }

    @Test func pluginFoldersAddUpFlagsThenEnvironmentThenFile() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: Self.file)
        flags.pluginPaths = ["/flag/a", "/flag/b"]
        let (configuration, _) = try resolve(flags, environment: ["CHURN_PLUGIN_PATH": "/env/a:/env/b"])
        #expect(configuration.pluginSearchPaths == ["/flag/a", "/flag/b", "/env/a", "/env/b", "/file/plugins"])
    }

    @Test func batchingOffByFlagBeatsTheFileAndTheFileCanTurnItOff() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: #"{"batching": true}"#)
        flags.batching = false
        #expect(try resolve(flags).0.batching.enabled == false)
        var fromFile = DaemonSettings()
        fromFile.home = try home(config: #"{"batching": false}"#)
        #expect(try resolve(fromFile).0.batching.enabled == false)
    }

    @Test(arguments: [
        (#"{"batch_window_ms": 500}"#, "batch window"),
        (#"{"max_batch": 0}"#, "max_batch"),
        (#"{"max_frame_bytes": 10}"#, "max frame"),
        (#"{"registry_poll_ms": 1}"#, "registry_poll_ms"),
        (#"{"log_level": "loud"}"#, "log level"),
        (#"{"socket_mode": "0644x"}"#, "socket mode"),
        (#"{"batch_window_ms": "soon"}"#, "batch_window_ms"),
        (#"{"batch_windw_ms": 5}"#, #"unknown setting "batch_windw_ms""#),
        (#"{"predict_timeout_seconds": -1}"#, "predict_timeout_seconds"),
    ])
    func aBadValueInTheFileIsRefusedNamingIt(config: String, named: String) throws {
        var flags = DaemonSettings()
        flags.home = try home(config: config)
        #expect {
            try resolve(flags)
        } throws: { error in
            "\(error)".contains(named)
        }
    }

    @Test func aBadLogLevelIsRefusedNamingItsSourceUnlessAHigherSourceGivesOne() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: #"{"log_level": "loud"}"#)
        #expect {
            try resolve(flags, environment: ["CHURN_LOG_LEVEL": "verbose"])
        } throws: { error in
            "\(error)".contains("verbose") && "\(error)".contains("CHURN_LOG_LEVEL")
        }
        // A good level from the environment covers the file's bad one, a flag covers both.
        #expect(try resolve(flags, environment: ["CHURN_LOG_LEVEL": "debug"]).1 == .debug)
        flags.logLevel = .error
        #expect(try resolve(flags, environment: ["CHURN_LOG_LEVEL": "verbose"]).1 == .error)
    }

    @Test func anEmptyEnvironmentVariableIsNoSetting() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: Self.file)
        let (configuration, _) = try resolve(flags, environment: ["CHURN_SOCKET": "", "CHURN_PLUGIN_PATH": ""])
        #expect(configuration.socketPath == "/tmp/from-file.sock")
        #expect(configuration.pluginSearchPaths == ["/file/plugins"])
    }

    @Test func aConfigFileNamedButMissingIsRefused() throws {
        var flags = DaemonSettings()
        flags.home = try home(config: nil)
        flags.configFile = flags.home! + "/nowhere.json"
        #expect {
            try resolve(flags)
        } throws: { error in
            "\(error)".contains("nowhere.json") && "\(error)".contains("does not exist")
        }
    }
}
