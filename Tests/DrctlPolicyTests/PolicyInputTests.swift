import Foundation
import Testing
@testable import DrctlPolicy

/// Policy text as it arrives: bytes that are not UTF-8, URLs that cannot be used, and values
/// whose control characters must not reach a terminal raw or split one problem over lines.
@Suite struct PolicyInputTests {
    @Test func aPolicyThatIsNotUTF8NamesItsFirstBadByte() throws {
        let workspace = try Workspace()
        // Line 3: two spaces, "é" (one scalar, two bytes), then the byte 0xFF at column 4.
        var bytes = Array("version: 1\nrepository:\n  é".utf8)
        bytes += [0xFF] + Array("x: 1\n".utf8) + [0xC3] + Array("\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: workspace.policyPath))
        #expect { try PolicyLoader.load(path: workspace.policyPath) } throws: { error in
            let problems = (error as! PolicyError).problems
            return problems.count == 1 && problems[0].line == 3 && problems[0].column == 4
                && problems[0].message == "not UTF-8 text: byte 0xFF cannot start or continue a character (save the policy as UTF-8)"
        }
    }

    @Test func aTruncatedCharacterAtTheEndIsNamedToo() throws {
        let workspace = try Workspace()
        try Data(Array("version: 1\n#".utf8) + [0xE2, 0x82]).write(to: URL(fileURLWithPath: workspace.policyPath))
        #expect { try PolicyLoader.load(path: workspace.policyPath) } throws: { error in
            let problem = (error as! PolicyError).problems[0]
            return problem.line == 2 && problem.column == 2 && problem.message.contains("byte 0xE2")
        }
    }

    @Test func urlsWithABadPortNoHostOrAnUnsupportedSchemeAreRefused() throws {
        let policy = minimalPolicy.replacingOccurrences(of: "url: repo", with: """
            url: s3://bucket/drctl
                  endpoint: http://:9000
            """) + """

            metrics:
              pushgateway: http://pushgateway:0
            notifications:
              - kind: webhook
                url: https://hooks.example.com:70000/drctl
              - kind: slack
                url: "http://"
              - kind: webhook
                url: https://hooks.example.com:443x/drctl
              - kind: alertmanager
                url: http://alertmanager:9093/api/v2/alerts
            """
        let problems = try Workspace().problems(policy)
        expectProblem(problems, line: 6, column: 17, path: "repository.regions[0].endpoint",
                      "invalid endpoint \"http://:9000\": it has no host", count: 5)
        expectProblem(problems, line: 14, column: 16, path: "metrics.pushgateway",
                      "invalid URL of a Pushgateway \"http://pushgateway:0\": port 0 is out of range 1-65535", count: nil)
        expectProblem(problems, line: 17, column: 10, path: "notifications[0].url",
                      "invalid URL \"https://hooks.example.com:70000/drctl\": port 70000 is out of range 1-65535", count: nil)
        expectProblem(problems, line: 19, column: 10, path: "notifications[1].url",
                      "invalid URL \"http://\": it has no host", count: nil)
        expectProblem(problems, line: 21, column: 10, path: "notifications[2].url",
                      "invalid URL \"https://hooks.example.com:443x/drctl\": port '443x' is not a number", count: nil)
    }

    @Test func unsupportedSchemesAreNamed() throws {
        let policy = minimalPolicy.replacingOccurrences(of: "url: repo", with: """
            url: s3://bucket/drctl
                  endpoint: ftp://s3.example.com
            """) + """

            metrics:
              pushgateway: gopher://pushgateway:9091
            """
        let problems = try Workspace().problems(policy)
        expectProblem(problems, line: 6, column: 17, path: "repository.regions[0].endpoint",
                      "invalid endpoint \"ftp://s3.example.com\": expected an http:// or https:// URL", count: 2)
        expectProblem(problems, line: 14, column: 16, path: "metrics.pushgateway",
                      "expected an http:// or https:// URL of a Pushgateway, got \"gopher://pushgateway:9091\"", count: nil)
    }

    @Test func goodURLsStillLoad() throws {
        let policy = try Workspace().load(minimalPolicy.replacingOccurrences(of: "url: repo", with: """
            url: s3://bucket/drctl
                  endpoint: https://[::1]:9000
            """) + """

            metrics:
              pushgateway: http://pushgateway.monitoring:65535/
            notifications:
              - kind: webhook
                url: https://hooks.example.com/drctl?token=1
            """)
        #expect(policy.metrics?.pushgateway == "http://pushgateway.monitoring:65535")
        #expect(policy.repository.regions[0].s3?.endpoint == "https://[::1]:9000")
    }

    /// A newline or an escape sequence in a value or a key is shown escaped: one problem is one
    /// line, and nothing from the policy is sent raw to the terminal.
    @Test func controlCharactersInEchoedValuesAreEscaped() throws {
        let policy = minimalPolicy.replacingOccurrences(of: "url: repo", with: "url: \"ftp://a\\nFAKE: problem\"")
            .replacingOccurrences(of: "kind: command", with: "kind: command\n    \"sched\\e[31mule\": x\n    timezone: \"Mars\\tOlympus\\x7F\"")
        let problems = try Workspace().problems(policy)
        #expect(problems.count == 3, "\(problems)")
        for problem in problems {
            #expect(!problem.description.unicodeScalars.contains { $0.properties.generalCategory == .control },
                    "\(problem.description.debugDescription)")
        }
        expectProblem(problems, line: 5, column: 12, path: "repository.regions[0].url",
                      "unsupported URL scheme 'ftp' in \"ftp://a\\nFAKE: problem\"", count: nil)
        expectProblem(problems, line: 11, column: 5, path: "targets[0].sched\\u{1B}[31mule",
                      "unknown key 'sched\\u{1B}[31mule'", count: nil)
        expectProblem(problems, line: 12, column: 15, path: "targets[0].timezone",
                      "unknown time zone \"Mars\\tOlympus\\u{7F}\"", count: nil)
    }
}
