// swift-tools-version: 6.1
import PackageDescription

/// churn: telecom churn prediction served by a daemon (`churnd`) that routes
/// length-prefixed JSON-RPC requests to model plugins, each its own process.
///
/// Layering (lower never imports higher):
///   ChurnJSON      JSON: a strict parser, a writer, tree coders and a reader for direct decoding
///   ChurnProtocol  wire types only (envelope, errors, method params/results)
///   ChurnRPC       NIO transport: framing, Unix-socket server and client
///   ChurnNumerics  the seeded random generator, classification metrics, sequence batches
///   ChurnRegistry  registry of versioned, compressed, checksummed artifacts: SQLite (one host)
///                  or PostgreSQL (shared by several hosts)
///   ChurnPluginKit the model contract a plugin implements, and `serve`
///   ChurnTuning    cross-validated search over plugins' declared hyperparameters, and blends
///   ChurnDaemon    plugin supervision, routing, daemon methods
///   ChurnClient    typed client for the daemon's methods
///   ChurnWeb       the web UI (Hummingbird), one more client of the daemon
///   ChurnCLI       the `churn` commands (a library, so tests parse them)
///   churnd, churn  executables
let package = Package(
    name: "churn",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ChurnProtocol", targets: ["ChurnProtocol"]),
        .library(name: "ChurnRPC", targets: ["ChurnRPC"]),
        .library(name: "ChurnPluginKit", targets: ["ChurnPluginKit"]),
        .library(name: "ChurnClient", targets: ["ChurnClient"]),
        .library(name: "ChurnRegistry", targets: ["ChurnRegistry"]),
        .library(name: "ChurnData", targets: ["ChurnData"]),
        .library(name: "ChurnML", targets: ["ChurnML"]),
        .library(name: "ChurnTuning", targets: ["ChurnTuning"]),
        .executable(name: "churnd", targets: ["churnd"]),
        .executable(name: "churn", targets: ["churn"]),
        .executable(name: "churn-plugin-random-forest", targets: ["churn-plugin-random-forest"]),
        .executable(name: "churn-plugin-lstm", targets: ["churn-plugin-lstm"]),
        .executable(name: "churn-plugin-lstm-attention", targets: ["churn-plugin-lstm-attention"]),
        .executable(name: "churn-plugin-gradient-boosting", targets: ["churn-plugin-gradient-boosting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Benchmark peer only: the listed CSV package our hand-written reader is measured against.
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // MARK: Protocol
        .target(
            name: "ChurnJSON",
            path: "Protocol/ChurnJSON"
        ),
        .target(
            name: "ChurnProtocol",
            dependencies: ["ChurnJSON"],
            path: "Protocol/ChurnProtocol"
        ),
        .target(
            name: "ChurnRPC",
            dependencies: [
                "ChurnProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Protocol/ChurnRPC"
        ),

        // MARK: Registry
        .systemLibrary(name: "CSQLite", path: "Registry/CSQLite"),
        .systemLibrary(name: "CZlib", path: "Registry/CZlib"),
        .target(
            name: "ChurnRegistry",
            dependencies: [
                "ChurnProtocol", "CSQLite", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Registry/ChurnRegistry"
        ),

        // MARK: Numbers the data and the models share: the seeded generator, metrics, sequence batches
        .target(
            name: "ChurnNumerics"
        ),

        // MARK: Data
        .target(
            name: "ChurnData",
            dependencies: ["ChurnProtocol", "ChurnNumerics"]
        ),

        // MARK: Machine learning core (tensors, layers, optimiser) for the sequence models
        .target(
            name: "ChurnML",
            dependencies: ["ChurnNumerics"]
        ),

        // MARK: Tuning: cross-validated search over any plugin's declared hyperparameters, and blends
        .target(
            name: "ChurnTuning",
            dependencies: ["ChurnData", "ChurnPluginKit", "ChurnProtocol"]
        ),

        // MARK: Plugin runtime
        .target(
            name: "ChurnPluginKit",
            dependencies: [
                "ChurnProtocol",
                "ChurnRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // MARK: Model plugins
        // Exact TreeSHAP (path algorithm), shared by the tree models; no dependencies.
        .target(
            name: "ChurnTreeSHAP",
            path: "Plugins/TreeSHAP"
        ),
        .target(
            name: "ChurnForest",
            dependencies: ["ChurnData", "ChurnPluginKit", "ChurnProtocol", "ChurnTreeSHAP"],
            path: "Plugins/RandomForest/Forest"
        ),
        .executableTarget(
            name: "churn-plugin-random-forest",
            dependencies: ["ChurnForest", "ChurnPluginKit"],
            path: "Plugins/RandomForest/Plugin"
        ),
        // Histogram gradient boosting of log loss (the algorithm; no dependencies).
        .target(
            name: "ChurnBoosting",
            path: "Plugins/GradientBoosting/Boosting"
        ),
        // The gradient-boosting plugin: datasets in, boosted trees out, explained by TreeSHAP.
        .target(
            name: "ChurnGradientBoosting",
            dependencies: ["ChurnBoosting", "ChurnTreeSHAP", "ChurnData", "ChurnPluginKit", "ChurnProtocol"],
            path: "Plugins/GradientBoosting/Plugin"
        ),
        .executableTarget(
            name: "churn-plugin-gradient-boosting",
            dependencies: ["ChurnGradientBoosting", "ChurnPluginKit"],
            path: "Plugins/GradientBoosting/Executable"
        ),

        .target(
            name: "ChurnSequenceModels",
            dependencies: ["ChurnML", "ChurnData", "ChurnPluginKit", "ChurnProtocol"],
            path: "Plugins/LSTM/Model"
        ),
        .executableTarget(
            name: "churn-plugin-lstm",
            dependencies: ["ChurnSequenceModels", "ChurnPluginKit"],
            path: "Plugins/LSTM/Plugin"
        ),
        .executableTarget(
            name: "churn-plugin-lstm-attention",
            dependencies: ["ChurnSequenceModels", "ChurnPluginKit"],
            path: "Plugins/LSTMAttention/Plugin"
        ),

        // MARK: Daemon and clients
        .target(
            name: "ChurnDaemon",
            dependencies: [
                "ChurnData",
                "ChurnProtocol",
                "ChurnRPC",
                "ChurnRegistry",
                "ChurnTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "ChurnClient",
            dependencies: [
                "ChurnProtocol", "ChurnRPC",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "churnd",
            dependencies: [
                "ChurnDaemon",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // MARK: Web UI
        .target(
            name: "ChurnWeb",
            dependencies: [
                "ChurnClient", "ChurnData", "ChurnProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ChurnCLI",
            dependencies: [
                "ChurnClient",
                "ChurnData",
                "ChurnDaemon",
                "ChurnRegistry",
                "ChurnWeb",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "churn",
            dependencies: ["ChurnCLI"]
        ),

        // MARK: Benchmarks (print numbers next to the peers'; never timed in tests)
        .executableTarget(
            name: "churn-bench",
            dependencies: [
                "ChurnClient", "ChurnData", "ChurnForest", "ChurnML", "ChurnPluginKit", "ChurnProtocol", "ChurnRegistry", "ChurnRPC",
                "ChurnSequenceModels", "ChurnTuning", "ChurnWeb", "ChurnGradientBoosting", "ChurnBoosting", "ChurnTreeSHAP",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/ChurnBench"
        ),

        // MARK: Test support (never shipped: no product lists it)
        .executableTarget(
            name: "churn-test-plugin",
            dependencies: ["ChurnPluginKit", "ChurnProtocol"],
            path: "Tests/Support/TestPlugin"
        ),

        .executableTarget(
            name: "churn-registry-helper",
            dependencies: ["ChurnRegistry"],
            path: "Tests/Support/RegistryHelper"
        ),
        .target(
            name: "ChurnTestSupport",
            dependencies: ["ChurnProtocol", "ChurnData", "ChurnPluginKit", "ChurnRegistry"],
            path: "Tests/Support/ChurnTestSupport"
        ),

        // MARK: Tests
        .testTarget(
            name: "ChurnProtocolTests",
            dependencies: ["ChurnProtocol", "ChurnTestSupport"]
        ),
        // Framing, envelopes, connections and the server: the RPC layer's own tests.
        .testTarget(
            name: "ChurnRPCTests",
            dependencies: [
                "ChurnProtocol", "ChurnRPC", "ChurnTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The typed client against an in-process server on a temporary Unix socket.
        .testTarget(
            name: "ChurnClientTests",
            dependencies: [
                "ChurnClient", "ChurnProtocol", "ChurnRPC",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The plugin runtime's method table, answered in-process (no socket, no process).
        .testTarget(
            name: "ChurnPluginKitTests",
            dependencies: [
                "ChurnPluginKit", "ChurnProtocol", "ChurnRPC",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ChurnDataTests",
            dependencies: ["ChurnData", "ChurnProtocol", "ChurnTestSupport"],
            exclude: [
                "Fixtures/make_metric_fixtures.py", "Fixtures/metrics.json", "Fixtures/make_experiment_fixtures.py",
                "Fixtures/experiments.json",
            ]
        ),
        .testTarget(
            name: "ChurnForestTests",
            dependencies: ["ChurnForest", "ChurnData", "ChurnPluginKit", "ChurnProtocol", "ChurnTestSupport"]
        ),
        .testTarget(
            name: "ChurnBoostingTests",
            dependencies: ["ChurnBoosting", "ChurnData"]
        ),
        .testTarget(
            name: "ChurnGradientBoostingTests",
            dependencies: ["ChurnGradientBoosting", "ChurnBoosting", "ChurnData", "ChurnPluginKit", "ChurnProtocol", "ChurnTestSupport"]
        ),
        .testTarget(
            name: "ChurnTreeSHAPTests",
            dependencies: ["ChurnTreeSHAP"]
        ),
        .testTarget(
            name: "ChurnTuningTests",
            dependencies: ["ChurnTuning", "ChurnData", "ChurnProtocol", "ChurnForest", "ChurnPluginKit", "ChurnTestSupport"]
        ),
        .testTarget(
            name: "ChurnMLTests",
            dependencies: ["ChurnML", "ChurnData"]
        ),
        .testTarget(
            name: "ChurnSequenceModelsTests",
            dependencies: ["ChurnSequenceModels", "ChurnML", "ChurnData", "ChurnPluginKit", "ChurnProtocol", "ChurnTestSupport"]
        ),
        .testTarget(
            name: "ChurnRegistryTests",
            dependencies: ["ChurnRegistry", "ChurnProtocol", "ChurnTestSupport", "churn-registry-helper"]
        ),
        .testTarget(
            name: "ChurnDaemonTests",
            dependencies: [
                "ChurnDaemon", "ChurnClient", "ChurnData", "ChurnProtocol", "ChurnRPC", "ChurnRegistry", "ChurnTestSupport", "churn-test-plugin", "churnd", "churn",
                "churn-plugin-random-forest", "churn-plugin-lstm", "churn-plugin-lstm-attention", "churn-plugin-gradient-boosting",
                "ChurnGradientBoosting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ChurnCLITests",
            dependencies: [
                "ChurnCLI", "ChurnProtocol", "ChurnData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ChurnWebTests",
            dependencies: [
                "ChurnWeb", "ChurnDaemon", "ChurnClient", "ChurnProtocol", "ChurnData", "ChurnTestSupport", "churnd",
                "churn-plugin-random-forest",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuthTesting", package: "hummingbird-auth"),
            ],
            exclude: ["Support/phone_layout.py"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
