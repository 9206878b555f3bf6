import Foundation
import Testing
import DrctlTestSupport
import DrctlSources

/// One-shot runs leave Prometheus metrics where the policy says: a node_exporter textfile per
/// command and target (atomic rename), and a PUT of the same exposition to a Pushgateway.
@Suite struct MetricsTests {
    @Test func backupAndDrillWriteTextfilesAndPush() throws {
        let sandbox = try Sandbox()
        let gateway = try HTTPReceiver()
        let textfiles = "\(sandbox.root)/textfiles"
        try FileManager.default.createDirectory(atPath: textfiles, withIntermediateDirectories: true)
        try sandbox.writePolicy(targets: [("files", ["seq", "1", "50000"]), ("other", ["echo", "x"])], rawTargets: """
            metrics:
              textfile: \(textfiles)
              pushgateway: \(gateway.url)/
            """)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let backup = parseExposition(try String(contentsOfFile: "\(textfiles)/drctl_files_backup.prom", encoding: .utf8))
        #expect(backup["drctl_backup_total{target=\"files\",result=\"complete\"}"] == 1, "\(backup)")
        #expect(backup["drctl_backup_total{target=\"files\",result=\"failed\"}"] == 0)
        #expect(backup["drctl_backup_size_bytes{target=\"files\",stage=\"raw\"}"] == Double(try Command.shell("seq 1 50000 | wc -c")
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect((backup["drctl_backup_size_bytes{target=\"files\",stage=\"stored\"}"] ?? 0) > 0)
        #expect((backup["drctl_backup_duration_seconds{target=\"files\"}"] ?? -1) >= 0)
        let success = try #require(backup["drctl_backup_last_success_timestamp_seconds{target=\"files\"}"])
        #expect(abs(success - Date().timeIntervalSince1970) < 120)
        // The other target's series are in a file of their own, not lost.
        #expect(FileManager.default.fileExists(atPath: "\(textfiles)/drctl_other_backup.prom"))
        #expect(!sandbox.files(under: textfiles).contains { $0.hasPrefix(".") }, "no temporary files left")

        #expect(try sandbox.drctl(["backup", "--target", "files"]).status == 0)
        let second = parseExposition(try String(contentsOfFile: "\(textfiles)/drctl_files_backup.prom", encoding: .utf8))
        #expect(second["drctl_backup_total{target=\"files\",result=\"complete\"}"] == 2, "counted from the repository")

        let drill = try sandbox.drctl(["drill", "--target", "files", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 0, "\(drill)")
        let drillText = try String(contentsOfFile: "\(textfiles)/drctl_files_drill.prom", encoding: .utf8)
        let metrics = parseExposition(drillText)
        #expect(metrics["drctl_drill_total{target=\"files\",result=\"passed\"}"] == 1, "\(drillText)")
        #expect(metrics["drctl_drill_total{target=\"files\",result=\"failed\"}"] == 0)
        #expect((metrics["drctl_drill_last_rto_seconds{target=\"files\"}"] ?? -1) >= 0)
        #expect((metrics["drctl_drill_last_rpo_seconds{target=\"files\"}"] ?? -1) >= 0)
        #expect(metrics["drctl_drill_last_success_timestamp_seconds{target=\"files\"}"] != nil)
        #expect(drillText.contains("# TYPE drctl_drill_total counter"))

        // The same expositions went to the Pushgateway, one group per command and target.
        let pushes = gateway.requests
        #expect(pushes.allSatisfy { $0.method == "PUT" })
        #expect(pushes.map(\.path).contains("/metrics/job/drctl_backup/target/files"), "\(pushes.map(\.path))")
        #expect(pushes.map(\.path).contains("/metrics/job/drctl_backup/target/other"))
        let drillPush = try #require(pushes.last { $0.path == "/metrics/job/drctl_drill/target/files" })
        #expect(drillPush.body == drillText)
        #expect(drillPush.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
    }

    /// Every output that carries a backup's last success carries the objectives it is judged
    /// against (a host that never drills still gets DrctlBackupMissed on its RPO), and the health
    /// of each region the backup used (DrctlRegionDown). A textfile directory never holds one
    /// series twice: node_exporter would refuse it.
    @Test func aBackupCarriesItsObjectivesAndRegionHealth() throws {
        let sandbox = try Sandbox()
        let gateway = try HTTPReceiver()
        let textfiles = "\(sandbox.root)/textfiles"
        let away = "\(sandbox.root)/eu-west"
        try FileManager.default.createDirectory(atPath: textfiles, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: away, contents: Data("a file, not a region".utf8))
        try sandbox.writePolicy(targets: [("files", ["echo", "x"])], regions: [("local", sandbox.repository), ("eu-west", away)],
                                rawTargets: """
            metrics:
              textfile: \(textfiles)
              pushgateway: \(gateway.url)
            """)
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    kind: command\n", with: "    kind: command\n    objectives: {rpo: 1h, rto: 10m}\n")
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        func written() throws -> [String: Double] {
            var all: [String: Double] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: textfiles) where file.hasSuffix(".prom") {
                let samples = parseExposition(try String(contentsOfFile: "\(textfiles)/\(file)", encoding: .utf8))
                #expect(Set(samples.keys).isDisjoint(with: all.keys), "\(file) repeats a series: \(samples)")
                all.merge(samples) { first, _ in first }
            }
            return all
        }
        var textfile = try written()
        let push = parseExposition(try #require(gateway.requests.last { $0.path == "/metrics/job/drctl_backup/target/files" }).body)
        for output in [textfile, push] {
            #expect(output["drctl_backup_last_success_timestamp_seconds{target=\"files\"}"] != nil, "\(output)")
            #expect(output["drctl_objective_rpo_seconds{target=\"files\"}"] == 3600, "\(output)")
            #expect(output["drctl_objective_rto_seconds{target=\"files\"}"] == 600, "\(output)")
            #expect(output["drctl_region_up{target=\"files\",region=\"local\"}"] == 1, "\(output)")
            #expect(output["drctl_region_up{target=\"files\",region=\"eu-west\"}"] == 0, "\(output)")
        }

        // A failed run still says which regions it could use; a drill beside it repeats no series.
        try FileManager.default.removeItem(atPath: away)
        try FileManager.default.createDirectory(atPath: away, withIntermediateDirectories: true)
        let drill = try sandbox.drctl(["drill", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 0, "\(drill)")
        policy = policy.replacingOccurrences(of: "[\"echo\", \"x\"]", with: "[\"false\"]")
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        #expect(try sandbox.drctl(["backup"]).status != 0)
        textfile = try written()
        #expect(textfile["drctl_backup_total{target=\"files\",result=\"failed\"}"] == 1, "\(textfile)")
        #expect(textfile["drctl_region_up{target=\"files\",region=\"local\"}"] == 1, "\(textfile)")
        #expect(textfile["drctl_region_up{target=\"files\",region=\"eu-west\"}"] == 1, "\(textfile)")
        #expect(textfile["drctl_objective_rpo_seconds{target=\"files\"}"] == 3600, "\(textfile)")
        #expect(textfile["drctl_drill_total{target=\"files\",result=\"passed\"}"] == 1, "\(textfile)")
    }

    @Test func unreachablePushgatewayNeverFailsTheRun() throws {
        let sandbox = try Sandbox()
        let port = try LoopbackPort.free()
        try sandbox.writePolicy(targets: [("files", ["echo", "x"])], rawTargets: """
            metrics:
              pushgateway: http://127.0.0.1:\(port)
            """)
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stderr.contains("metrics not pushed"), "\(backup)")
    }

    /// What a Pushgateway answers is bounded: a refusal's body is quoted up to 300 characters in
    /// the log, and an answer over 64 KiB is not read whole; neither changes the run's result.
    @Test func aPushgatewaysLongRefusalIsCutAndNeverFailsTheRun() throws {
        for (size, cause) in [(10_000, "answered HTTP 400: refused"), (1 << 20, "65536")] {
            let gateway = try LoopbackScript("a refusing Pushgateway", script: #"""
                import http.server, sys
                size = int(sys.argv[1])
                class Handler(http.server.BaseHTTPRequestHandler):
                    def do_PUT(self):
                        self.rfile.read(int(self.headers.get('Content-Length') or 0))
                        body = b'refused' + b'x' * (size - 7)
                        self.send_response(400)
                        self.send_header('Content-Length', str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    def log_message(self, *args): pass
                server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
                print(server.server_address[1], flush=True)
                server.serve_forever()
                """#, arguments: ["\(size)"])
            let sandbox = try Sandbox()
            try sandbox.writePolicy(targets: [("files", ["echo", "x"])], rawTargets: """
                metrics:
                  pushgateway: http://127.0.0.1:\(gateway.port)
                """)
            let backup = try sandbox.drctl(["backup"])
            #expect(backup.status == 0, "\(backup)")
            #expect(backup.stderr.contains("metrics not pushed") && backup.stderr.contains(cause), "\(backup.stderr)")
            #expect(!backup.stderr.contains(String(repeating: "x", count: 300)), "the refusal's body is cut: \(backup.stderr.count) characters")
        }
    }

    /// A textfile directory that cannot be written (a file stands where it should be) is logged
    /// and the backup still succeeds: metrics never change a run's result.
    @Test func anUnwritableTextfileDirectoryNeverFailsTheRun() throws {
        let sandbox = try Sandbox()
        let blocker = "\(sandbox.root)/not-a-directory"
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        try sandbox.writePolicy(targets: [("files", ["echo", "x"])], rawTargets: """
            metrics:
              textfile: \(blocker)/textfiles
            """)
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stderr.contains("metrics not written") && backup.stderr.contains("not-a-directory"), "\(backup)")
        #expect(try sandbox.drctl(["list"]).stdout.contains("files"))
    }

    @Test func invalidMetricsAndNotificationPoliciesAreRefused() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("files", ["echo", "x"])], rawTargets: """
            metrics:
              pushgateway: 127.0.0.1:9091
              textfil: /tmp
            notifications:
              - kind: webhok
                url: hooks.example.com
                headers: {Authorization: Bearer plain}
            """)
        let validate = try Drctl.run(["policy", "validate", sandbox.policyPath])
        #expect(validate.status == 2)
        let problems = validate.stdout + validate.stderr
        #expect(problems.contains("metrics.pushgateway") && problems.contains("http://"), "\(validate)")
        #expect(problems.contains("did you mean 'textfile'"), "\(validate)")
        #expect(problems.contains("notifications[0].kind"), "\(validate)")
        #expect(problems.contains("notifications[0].url"), "\(validate)")
        #expect(problems.contains("notifications[0].headers.Authorization") && !problems.contains("Bearer plain"), "\(validate)")
    }
}
