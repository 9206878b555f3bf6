// swift-tools-version:6.0
// drctl: backup and disaster-recovery agent for PostgreSQL and Redis (docs/DESIGN.md).
// The module graph (each arrow: "depends on"; every module also depends on DrctlErrors):
//   DrctlErrors                                                    the root: every error's exit class
//   DrctlCrypto (+ OpenSSL), DrctlPolicy (+ Yams)                  keys and sealing; the policy
//   DrctlPipeline → DrctlCrypto (+ zstd)                           streams, filters, sealing
//   DrctlSources → DrctlPipeline (+ libpq, loaded on first use)    where bytes come from
//   DrctlStorage → DrctlPipeline, DrctlCrypto (+ libcurl, likewise) regions, the repository format
//   DrctlJobs → all of the above (+ swift-log)                     backup, restore, drill, … and the agent
//   drctl (the CLI) → DrctlJobs and the rest (+ swift-argument-parser)
// A backup's bytes flow source → zstd → seal → SHA-256 → regions; the graph is not that order.
// Tests: a test target per module; DrctlTestSupport (throwaway PostgreSQL, Redis, moto, fault
// proxies) is shared by those that need real servers.
import PackageDescription

let package = Package(
    name: "drctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "drctl", targets: ["drctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries, each touched by exactly one Swift target.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // libpq and libcurl are not linked but loaded on first use (CLibraryLoader: dlopen), so
        // that a process using neither, like wal-push to a directory, starts without them; the
        // headers come from libpq-dev and libcurl4-openssl-dev, the libraries from libpq5 and
        // libcurl4 (the Debian package's Depends, named in deploy/debian/control).
        .target(name: "CLibraryLoader"),
        .target(name: "CPostgres", dependencies: ["CLibraryLoader"]),
        // curl_easy_setopt is variadic: one typed wrapper per argument kind.
        .target(name: "CCurlShim", dependencies: ["CLibraryLoader"]),

        // Exit classes (README, "Exit codes"), which every error type declares; below everything.
        .target(name: "DrctlErrors"),
        .target(name: "DrctlCrypto", dependencies: ["COpenSSL", "DrctlErrors"]),
        .target(name: "DrctlPolicy", dependencies: ["DrctlErrors", .product(name: "Yams", package: "Yams")]),
        .target(name: "DrctlPipeline", dependencies: ["CZstd", "DrctlCrypto", "DrctlErrors"]),
        // libpq is used here only (PostgreSQL sources); libcurl only in DrctlStorage (S3).
        .target(name: "DrctlSources", dependencies: ["DrctlPipeline", "CPostgres", "DrctlErrors"]),
        .target(name: "DrctlStorage", dependencies: ["DrctlPipeline", "DrctlCrypto", "CCurlShim", "DrctlErrors"]),
        .target(name: "DrctlJobs", dependencies: [
            "DrctlPolicy", "DrctlPipeline", "DrctlSources", "DrctlStorage", "DrctlCrypto", "DrctlErrors",
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["VersionFile"]),
        // VERSION, compiled into DrctlJobs (DrctlVersion.current): the one version of the binary,
        // the Debian package and the image.
        .plugin(name: "VersionFile", capability: .buildTool()),
        .executableTarget(name: "drctl", dependencies: [
            "DrctlJobs", "DrctlPolicy", "DrctlPipeline", "DrctlStorage", "DrctlCrypto", "DrctlErrors",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Every error type of every module declares its exit class, as README's table says.
        .testTarget(name: "DrctlErrorsTests", dependencies: [
            "DrctlErrors", "DrctlCrypto", "DrctlPolicy", "DrctlPipeline", "DrctlSources", "DrctlStorage", "DrctlJobs",
        ]),
        .testTarget(name: "DrctlCryptoTests", dependencies: ["DrctlCrypto"]),
        .testTarget(name: "DrctlPolicyTests", dependencies: ["DrctlPolicy"]),
        // The jobs run in-process through JobRunner against local repositories (and real
        // PostgreSQL and Redis servers where a target needs one), and what they build from the
        // policy: the key ring, the repository's regions, S3 credentials.
        .testTarget(name: "DrctlJobsTests", dependencies: [
            "DrctlJobs", "DrctlPolicy", "DrctlCrypto", "DrctlPipeline", "DrctlStorage", "DrctlSources", "DrctlTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "DrctlPipelineTests", dependencies: ["DrctlPipeline", "DrctlCrypto", "DrctlSources"]),
        // Sources against real servers (PostgreSQL, Redis) started by the tests themselves.
        .testTarget(name: "DrctlSourcesTests", dependencies: ["DrctlSources", "DrctlPipeline", "DrctlTestSupport", "CLibraryLoader"]),
        // Throwaway servers shared by the test targets.
        .target(name: "DrctlTestSupport", dependencies: ["DrctlSources", "DrctlPipeline"], path: "Tests/DrctlTestSupport"),
        .testTarget(name: "DrctlStorageTests", dependencies: ["DrctlStorage", "DrctlPipeline", "DrctlCrypto", "DrctlSources", "DrctlTestSupport"]),
        // The agent's scheduler and loop.
        .testTarget(name: "DrctlAgentTests", dependencies: ["DrctlJobs", "DrctlPolicy", "DrctlStorage", "DrctlCrypto", "DrctlTestSupport", .product(name: "Logging", package: "swift-log")]),
        // Runs the built `drctl` binary against real files and processes.
        .testTarget(name: "DrctlEndToEndTests", dependencies: ["DrctlCrypto", "DrctlPipeline", "DrctlStorage", "DrctlSources", "DrctlTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
