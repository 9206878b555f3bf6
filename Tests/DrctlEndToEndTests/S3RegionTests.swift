import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlStorage
import DrctlTestSupport

/// A moto S3 server on a loopback port; with `noAuthActions` it checks Signature V4 (and IAM)
/// after that many unauthenticated requests (`INITIAL_NO_AUTH_ACTION_COUNT`), otherwise not at all.
final class MotoProcess {
    let child: ChildProcess
    let port: Int

    /// On `port` (a restart where an earlier one was), else on a random free one.
    init(port: Int? = nil, noAuthActions: Int? = nil) throws {
        (self.port, child) = try Self.start(port: port, noAuthActions: noAuthActions)
    }

    /// A few random ports, in case one is taken. Ready once moto holds the port's listening
    /// socket (`PortOwner`: a request would be an action moto counts, a connect could reach
    /// another server).
    private static func start(port wanted: Int?, noAuthActions: Int?) throws -> (Int, ChildProcess) {
        let environment = noAuthActions.map { ["INITIAL_NO_AUTH_ACTION_COUNT": "\($0)"] } ?? [:]
        for _ in 0..<3 {
            let port = wanted ?? Int.random(in: 20000...60000)
            let child = try ChildProcess(argv: ["sh", "-c", "exec \"$0\" -m moto.server -H 127.0.0.1 -p \(port) >/dev/null 2>&1",
                                                try PythonTools.python],
                                         environment: .inherited(adding: environment))
            for _ in 0..<200 {
                if PortOwner.listens(pid: child.pid, on: port) {
                    return (port, child)
                }
                if child.poll() != nil { break }
                usleep(100_000)
            }
            child.terminate(grace: 1)
            child.wait()
        }
        throw Failure(message: "moto did not start")
    }

    deinit {
        thaw()   // a stopped server would not see SIGTERM until continued
        child.terminate(grace: 2)
        child.wait()
    }

    /// Stops the server (SIGSTOP): it still accepts connections (the kernel queues them) but
    /// answers nothing, as a frozen endpoint does. `deinit` continues it before ending it.
    func freeze() { kill(child.pid, SIGSTOP) }

    /// Continues a frozen server (SIGCONT).
    func thaw() { kill(child.pid, SIGCONT) }

    /// A store on `bucket` (moto takes any key), to look at what the binary left there.
    func store(bucket: String, prefix: String = "") throws -> S3ObjectStore {
        try S3ObjectStore(endpoint: "http://127.0.0.1:\(port)", region: "us-east-1", bucket: bucket, prefix: prefix, pathStyle: true,
                          credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "moto-does-not-check"))
    }

    func createBucket(_ name: String) throws {
        let result = try ChildProcess.run(["curl", "-sf", "-X", "PUT", "http://127.0.0.1:\(port)/\(name)"])
        guard result.exit.succeeded else { throw Failure(message: "create bucket: \(result.stderr)") }
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

@Suite struct S3RegionTests {
    /// One backup, two regions (S3 and a directory), both complete; each can serve a restore,
    /// and a standard S3 client sees what drctl lists.
    @Test func backupToS3AndLocalThenRestoreFromEach() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 12000000 /dev/urandom > '\(input)'")
        let yaml = """
            version: 1
            repository:
              regions:
                - name: s3
                  url: s3://backups/prod
                  endpoint: http://127.0.0.1:\(moto.port)
                  region: us-east-1
                  path_style: true
                - name: local
                  url: \(sandbox.repository)
              min_regions: 2
              encryption:
                key_file: \(sandbox.keyPath)
            targets:
              - name: files
                kind: command
                command: ["cat", "\(input)"]

            """
        try yaml.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--json"], environment: credentials)
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\"complete\""), "\(backup)")
        let list = try Drctl.run(["list", "--policy", sandbox.policyPath, "--json"], environment: credentials)
        #expect(list.stdout.contains("\"s3\"") && list.stdout.contains("\"local\""), "\(list)")
        let verify = try Drctl.run(["verify", "--policy", sandbox.policyPath], environment: credentials)
        #expect(verify.status == 0 && verify.stdout.contains("s3: ok"), "\(verify)")

        for region in ["s3", "local"] {
            let out = "\(sandbox.root)/restored-\(region)"
            let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "files", "--to", out,
                                         "--region", region], environment: credentials)
            #expect(restore.status == 0, "\(restore)")
            #expect(try sandbox.sha256(out) == sandbox.sha256(input), "from \(region)")
        }

        // A standard client lists the same objects drctl wrote.
        let aws = try ChildProcess.run([try PythonTools.aws, "--endpoint-url", "http://127.0.0.1:\(moto.port)", "s3", "ls", "--recursive",
                                        "s3://backups/prod/"], environment: .inherited(adding: credentials.merging(["AWS_DEFAULT_REGION": "us-east-1"]) { $1 }))
        #expect(aws.exit.succeeded, "\(aws.stderr)")
        #expect(aws.stdout.contains("prod/repository.json") && aws.stdout.contains("prod/manifests/files/")
                && aws.stdout.contains("/stdout"), "\(aws.stdout)")
    }

    @Test func missingCredentialsAreNamed() throws {
        let sandbox = try Sandbox()
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:9", command: ["echo"])
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "HOME": sandbox.root])
        #expect(backup.status == 2 && backup.stderr.contains("no S3 credentials"), "\(backup)")
    }
}
