import Foundation
import Testing
import DrctlStorage

/// `drctl report` against a real directory repository holding history written through the
/// library (drill and failure records, manifests), as drills and backups leave it.
@Suite struct ReportTests {
    @Test func markdownAndJSONCarryTheSameNumbers() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let json = try box.report(["--month", "2026-11", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let markdown = try box.report(["--month", "2026-11", "--format", "md"])
        #expect(markdown.status == 0, "\(markdown)")
        let report = try ReportJSON(json.stdout)
        let document = MarkdownDocument(markdown.stdout)

        // The numbers themselves (both forms could be wrong the same way otherwise).
        #expect(report.string("format") == "drctl-drill-report" && report.int("version") == 1)
        #expect(report.string("month") == "2026-11" && report.bool("ok") == false)
        let appDB = try report.target("app-db")
        let cache = try report.target("cache")
        #expect(appDB.string("standing") == "drills_failed")
        #expect(cache.string("standing") == "met")
        #expect(appDB.array("drills").map { $0.double("rto_seconds") } == [41.5, 38, 75.25, nil])
        #expect(appDB.array("drills").map { $0.double("rpo_seconds") } == [1830.25, 2400, 1900, 3600])
        #expect(appDB.array("drills").map { $0.bool("rto_met") } == [true, true, false, nil])
        #expect(cache.array("drills").map { $0.double("rto_seconds") } == [2.5, 3.25])
        let summary = appDB.object("summary")
        #expect(summary.int("drills") == 4 && summary.int("passed") == 2 && summary.int("objectives_missed") == 1 && summary.int("failed") == 1)
        #expect(summary.double("worst_rto_seconds") == 75.25 && summary.double("median_rto_seconds") == 41.5)
        #expect(summary.double("worst_rpo_seconds") == 3600 && summary.double("median_rpo_seconds") == 2150)
        let backups = appDB.object("backups")
        #expect(backups.int("taken") == 4 && backups.int("complete") == 3 && backups.int("degraded") == 1 && backups.int("failed") == 1)
        let storage = appDB.array("storage")
        #expect(storage.map { $0.string("region") } == ["local", "backup"])
        #expect(storage.map { $0.int("backups") } == [5, 4])
        #expect(storage.map { $0.int("stored_bytes") } == [15_000_000, 12_000_000])
        let trend = appDB.array("trend")
        #expect(trend.count == 12 && trend.first?.string("month") == "2025-12" && trend.last?.string("month") == "2026-11")
        #expect(trend.map { $0.int("drills") ?? -1 } == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4])
        #expect(cache.array("trend").map { $0.int("drills") ?? -1 } == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2])
        let verdict = try #require(report.string("verdict"))
        #expect(verdict.hasPrefix("1 of 2 targets did not meet its objectives in 2026-11: app-db 1 of 4 drills failed"), "\(verdict)")
        #expect(verdict.contains("missed its RTO objective (worst 1m 15s against 1m 00s)"), "\(verdict)")

        // The same in Markdown: verdict, overview, every drill, backups, storage and trend.
        #expect(document.text.contains(MarkdownDocument.escaped(verdict)))
        for target in [appDB, cache] {
            let name = target.string("name")!
            let overview = try #require(document.table(after: "# Drill report 2026-11").first { $0.first == name })
            let month = target.object("summary")
            #expect(Int(overview[3]) == month.int("drills") && Int(overview[4]) == month.int("passed"))
            try expectSame(overview[5], month.double("worst_rto_seconds"))
            try expectSame(overview[6], month.double("worst_rpo_seconds"))
            #expect(Int(overview[7]) == month.int("backups") && Int(overview[8]) == month.int("failed_backups"))

            let section = try #require(document.section("## \(name)"))
            let drills = section.table(after: "### Drills")
            let expected = target.array("drills")
            #expect(drills.count == expected.count)
            for (row, drill) in zip(drills, expected) {
                #expect(row[1] == drill.string("drill_id"))
                #expect(row[0] == String(drill.string("started_at")!.prefix(16)).replacingOccurrences(of: "T", with: " "))
                #expect(row[3] == drill.string("result")!.replacingOccurrences(of: "_", with: " "))
                try expectSame(row[4], drill.double("rto_seconds"))
                try expectSame(row[5], drill.double("rto_objective_seconds"))
                try expectSame(row[6], drill.double("rpo_seconds"))
                try expectSame(row[7], drill.double("rpo_objective_seconds"))
            }
            let regions = section.table(after: "### Storage by region")
            #expect(regions.count == target.array("storage").count)
            for (row, region) in zip(regions, target.array("storage")) {
                #expect(row[0] == region.string("region") && Int(row[1]) == region.int("backups"))
                try expectSameBytes(row[2], region.int("stored_bytes")!)
            }
            let months = section.table(after: "### 12-month trend")
            #expect(months.count == 12)
            for (row, entry) in zip(months, target.array("trend")) {
                #expect(row[0] == entry.string("month") && Int(row[1]) == entry.int("drills") && Int(row[2]) == entry.int("passed"))
                try expectSame(row[3], entry.double("worst_rto_seconds"))
                try expectSame(row[4], entry.double("median_rto_seconds"))
                try expectSame(row[5], entry.double("worst_rpo_seconds"))
                try expectSame(row[6], entry.double("median_rpo_seconds"))
                #expect(Int(row[7]) == entry.int("backups") && Int(row[8]) == entry.int("failed_backups"))
            }
        }
        let appSection = try #require(document.section("## app-db"))
        #expect(appSection.text.contains("Taken 4 (complete 3, degraded 1), failed 1."))
        #expect(appSection.text.contains("connection \\| lost"), "a pipe in an error must not break the table")
    }

    @Test func htmlHasAChartPerMeasureWithTheObjectiveLineAndOnePointPerDrill() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let html = try box.report(["--month", "2026-11", "--format", "html"])
        #expect(html.status == 0, "\(html)")
        let page = html.stdout
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        // Self-contained: no script, no external resource (the SVG namespace is a name, not a fetch).
        for forbidden in ["<script", "<link", "src=", "url(", "@import"] {
            #expect(!page.contains(forbidden), "the report must not contain \(forbidden)")
        }
        #expect(page.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").range(of: "https?://", options: .regularExpression) == nil)
        #expect(page.contains("@media print") && page.contains("@page"))

        let json = try ReportJSON(try box.report(["--month", "2026-11", "--format", "json"]).stdout)
        for (name, rto, rpo) in [("app-db", ["41.5 s", "38.0 s", "1m 15s"], ["30m 30s", "40m 00s", "31m 40s", "1h 00m"]),
                                 ("cache", ["2.50 s", "3.25 s"], ["11h 07m", "14h 27m"])] {
            let section = try #require(page.slice(from: "<section class=\"target\" id=\"target-\(name)\">", to: "</section>"))
            let drills = try json.target(name).array("drills")
            #expect(section.count(of: "<svg") == 3, "an RTO, an RPO and a trend chart for \(name)")
            let trendChart = try #require(section.slice(from: "<figure class=\"chart chart-trend\">", to: "</figure>"))
            #expect(trendChart.count(of: "<g class=\"trend-month\">") == 12)
            #expect(trendChart.contains(">\(try json.target(name).object("summary").int("passed")!)/\(drills.count)<"), "November's bar is labelled passed/drills")
            let rtoChart = try #require(section.slice(from: "<figure class=\"chart chart-rto\">", to: "</figure>"))
            let rpoChart = try #require(section.slice(from: "<figure class=\"chart chart-rpo\">", to: "</figure>"))
            for (chart, shown, measure) in [(rtoChart, rto, "rto_seconds"), (rpoChart, rpo, "rpo_seconds")] {
                #expect(chart.count(of: "<line class=\"objective\"") == 1)
                let measured = drills.filter { $0.double(measure) != nil }.count
                #expect(chart.count(of: "class=\"drill-point ") == measured, "one point per measured drill of \(name)")
                #expect(chart.count(of: "class=\"drill-missing\"") == drills.count - measured)
                for value in shown { #expect(chart.contains(value), "the chart names \(value)") }
            }
            // The table shows the same figures as the chart.
            for value in rto + rpo { #expect(section.contains(">\(value)<"), "\(name)'s table shows \(value)") }
        }
        // The point over the objective is drawn above the objective line (SVG y grows downwards).
        let chart = try #require(page.slice(from: "<figure class=\"chart chart-rto\">", to: "</figure>"))
        let objectiveText = try #require(chart.slice(from: "<line class=\"objective\" x1=\"58\" y1=\"", to: "\""))
        let objectiveY = try #require(Double(objectiveText))
        let overPath = try #require(chart.slice(from: "class=\"drill-point drill-over\" d=\"M", to: "\""))
        let overY = try #require(Double(String(overPath.split(separator: " ")[1].prefix { $0 != "L" })))
        #expect(overY < objectiveY)
    }

    @Test func htmlRendersWithHeadlessChromiumToAPNGAndAFewA4Pages() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let html = "\(box.sandbox.root)/report.html"
        let written = try box.report(["--month", "2026-11", "--format", "html", "--output", html])
        #expect(written.status == 0, "\(written)")
        let png = "\(box.sandbox.root)/report.png"
        let pdf = "\(box.sandbox.root)/report.pdf"
        let chromium = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--user-data-dir=\(box.sandbox.root)/chromium-profile"]
        let shot = try Command.run(chromium + ["--screenshot=\(png)", "--window-size=1280,2400", "file://\(html)"])
        #expect(shot.status == 0, "\(shot)")
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.count > 40_000, "a page with charts and tables is not a few bytes: \(image.count)")
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        let width = image[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = image[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 2400)

        let print = try Command.run(chromium + ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", "file://\(html)"])
        #expect(print.status == 0, "\(print)")
        let document = String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)), as: UTF8.self)
        let pages = document.count(ofPattern: "/Type\\s*/Page(?!s)")
        // Each target starts a page; two targets with four and two drills fit on two to six A4 pages.
        #expect((2...6).contains(pages), "\(pages) pages")
        let boxes = document.matches(ofPattern: "/MediaBox\\s*\\[0 0 ([0-9.]+) ([0-9.]+)\\]")
        #expect(!boxes.isEmpty && boxes.allSatisfy { abs($0[0] - 595) < 2 && abs($0[1] - 842) < 2 }, "A4 pages: \(boxes)")

        // Nothing cut off at A4 width: every word printed lies inside the page's 12 mm margins
        // (Chromium clips what overflows, and a clipped word ends beyond the margin), and the
        // rightmost column of each table made it onto the page.
        let words = try Command.run(["/usr/bin/pdftotext", "-bbox", pdf, "-"])
        #expect(words.status == 0, "\(words)")
        let spans = words.stdout.matches(ofPattern: #"<word xMin="([0-9.]+)" yMin="[0-9.]+" xMax="([0-9.]+)""#)
        #expect(spans.count > 300, "\(spans.count) words")
        let outside = spans.filter { $0[0] < 30 || $0[1] > 595 - 30 }
        #expect(outside.isEmpty, "words beyond the margins: \(outside.prefix(5))")
        let text = try Command.run(["/usr/bin/pdftotext", "-layout", pdf, "-"]).stdout
        for expected in ["app-db", "cache", "failed backups", "authentication", "objective 1m 00s", "2026-11 4 2"] {
            #expect(text.replacingOccurrences(of: #" +"#, with: " ", options: .regularExpression).contains(expected), "the PDF shows \(expected)")
        }
    }

    @Test func theVerdictNamesEachTargetThatMissedAndWhy() throws {
        let box = try ReportSandbox(extraPolicy: """
              - name: logs
                kind: command
                command: ["true"]
                drill: {enabled: false}
            """)
        let appDB = (rto: 60.0, rpo: 7200.0)
        let cache = (rto: 30.0, rpo: 86_400.0)
        try box.drill("app-db", at: "2026-09-03T04:30:00.000Z", .passed, rto: 40, rpo: 3000, objectives: appDB)
        try box.drill("cache", at: "2026-09-04T05:00:00.000Z", .passed, rto: 3, rpo: 40_000, objectives: cache)
        try box.drill("app-db", at: "2026-07-03T04:30:00.000Z", .objectivesMissed, rto: 40, rpo: 9000, objectives: appDB)
        try box.drill("app-db", at: "2026-05-03T04:30:00.000Z", .objectivesMissed, rto: 90, rpo: 8000, objectives: appDB)
        // Measured against the objectives in force when it ran (its record), not today's policy.
        try box.drill("app-db", at: "2026-04-03T04:30:00.000Z", .passed, rto: 90, rpo: 3000, objectives: (rto: 120, rpo: 7200))

        let one = try box.report(["--month", "2026-09", "--format", "json", "--target", "app-db"])
        #expect(one.status == 0, "\(one)")
        #expect(try ReportJSON(one.stdout).string("verdict") == "Target app-db met its objectives in 2026-09")
        let all = try ReportJSON(try box.report(["--month", "2026-09", "--format", "json"]).stdout)
        #expect(all.string("verdict") == "1 of 3 targets did not meet its objectives in 2026-09: logs had no drills (drills are disabled in the policy)")
        #expect(all.array("targets").map { $0.string("standing") } == ["met", "met", "no_drills"])
        #expect(all.bool("ok") == false)

        let july = try ReportJSON(try box.report(["--month", "2026-07", "--format", "json"]).stdout)
        #expect(july.string("verdict") == "3 of 3 targets did not meet their objectives in 2026-07: cache had no drills; "
            + "logs had no drills (drills are disabled in the policy); app-db missed its RPO objective (worst 2h 30m against 2h 00m)")
        #expect(try july.target("app-db").array("drills").map { $0.bool("rpo_met") } == [false])

        let may = try ReportJSON(try box.report(["--month", "2026-05", "--format", "json", "--target", "app-db"]).stdout)
        #expect(may.string("verdict") == "1 of 1 target did not meet its objectives in 2026-05: app-db missed its RTO and RPO objectives "
            + "(RTO worst 1m 30s against 1m 00s; RPO worst 2h 13m against 2h 00m)")

        let april = try ReportJSON(try box.report(["--month", "2026-04", "--format", "json", "--target", "app-db"]).stdout)
        #expect(april.string("verdict") == "Target app-db met its objectives in 2026-04")
        let drill = try #require(try april.target("app-db").array("drills").first)
        #expect(drill.double("rto_objective_seconds") == 120 && drill.bool("rto_met") == true)
        #expect(try april.target("app-db").object("objectives").double("rto_seconds") == 60)

        // Figures at the edge of a unit are shown in the next one, never as "60.0 s".
        try box.drill("app-db", at: "2026-03-03T04:30:00.000Z", .passed, rto: 59.97, rpo: 9.996, objectives: (rto: 120, rpo: 7200))
        let march = try box.report(["--month", "2026-03", "--target", "app-db"])
        let row = try #require(MarkdownDocument(march.stdout).section("## app-db")?.table(after: "### Drills").first, "\(march)")
        #expect(row[4] == "1m 00s" && row[6] == "10.0 s", "\(row)")

        let logs = try box.report(["--month", "2026-09", "--target", "logs"])
        #expect(logs.stdout.contains("Objectives: RTO not set, RPO not set. Drills are disabled in the policy."), "\(logs)")
    }

    /// Drills that passed with no objective to measure them against prove the backup restores,
    /// not that it restores in time: the report says so and never that such a target met its
    /// objectives (it did, vacuously, until issue #23).
    @Test func aTargetWithoutObjectivesIsNeverSaidToMeetThem() throws {
        let box = try ReportSandbox(extraPolicy: """
              - name: files
                kind: command
                command: ["true"]
            """)
        try box.drill("app-db", at: "2026-09-03T04:30:00.000Z", .passed, rto: 40, rpo: 3000, objectives: (rto: 60, rpo: 7200))
        try box.drill("cache", at: "2026-09-04T05:00:00.000Z", .passed, rto: 3, rpo: 40_000, objectives: (rto: 30, rpo: 86_400))
        for day in ["05", "06"] {
            try box.drill("files", at: "2026-09-\(day)T05:00:00.000Z", .passed, rto: 2, rpo: 600, objectives: nil)
        }
        let only = try ReportJSON(try box.report(["--month", "2026-09", "--format", "json", "--target", "files"]).stdout)
        #expect(only.string("verdict") == "No objectives set in 2026-09 for files: its drills passed, but RTO and RPO were not judged")
        #expect(try only.target("files").string("standing") == "no_objectives")
        #expect(try only.target("files").string("verdict") == "has no objectives set (2 drills passed; RTO and RPO not judged)")
        #expect(only.bool("ok") == false)

        let all = try ReportJSON(try box.report(["--month", "2026-09", "--format", "json"]).stdout)
        #expect(all.string("verdict") == "2 of 3 targets met their objectives in 2026-09; no objectives set for files: "
            + "its drills passed, but RTO and RPO were not judged")
        #expect(all.array("targets").map { $0.string("standing") } == ["met", "met", "no_objectives"])
        #expect(all.bool("ok") == false)

        // Beside a target that missed, the line still names the one without objectives.
        try box.drill("cache", at: "2026-09-07T05:00:00.000Z", .objectivesMissed, rto: 45, rpo: 40_000, objectives: (rto: 30, rpo: 86_400))
        let missed = try ReportJSON(try box.report(["--month", "2026-09", "--format", "json"]).stdout)
        #expect(missed.string("verdict") == "1 of 3 targets did not meet its objectives in 2026-09: cache missed its RTO objective "
            + "(worst 45.0 s against 30.0 s); no objectives set for files: its drills passed, but RTO and RPO were not judged")

        let markdown = try box.report(["--month", "2026-09", "--target", "files"])
        #expect(markdown.stdout.contains("**ATTENTION: No objectives set in 2026-09 for files"), "\(markdown)")
        #expect(markdown.stdout.contains("**no objectives set**: files has no objectives set"), "\(markdown)")
        #expect(!markdown.stdout.contains("met its objectives"), "\(markdown)")
        let html = try box.report(["--month", "2026-09", "--target", "files", "--format", "html"])
        #expect(html.stdout.contains("standing-no_objectives") && !html.stdout.contains("met its objectives"), "\(html)")
    }

    @Test func anEmptyMonthSaysNoDrillsInEveryForm() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let json = try box.report(["--month", "2026-08", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let report = try ReportJSON(json.stdout)
        #expect(report.bool("ok") == false)
        #expect(report.string("verdict") == "No drills in 2026-08: none of the 2 targets was drilled, so their recoverability is unproven")
        #expect(report.array("targets").map { $0.string("standing") } == ["no_drills", "no_drills"])
        #expect(report.array("targets").allSatisfy { $0.array("drills").isEmpty && $0.array("trend").count == 12 })
        // The trend still shows the months before.
        #expect(try report.target("cache").array("trend").map { $0.int("drills") ?? -1 }.reduce(0, +) == 1)

        let markdown = try box.report(["--month", "2026-08"])
        #expect(markdown.status == 0 && markdown.stdout.contains("**ATTENTION: No drills in 2026-08"), "\(markdown)")
        #expect(markdown.stdout.contains("No drills in 2026-08: this target's recoverability is unproven."))
        let html = try box.report(["--month", "2026-08", "--format", "html"])
        #expect(html.status == 0 && html.stdout.contains("class=\"verdict bad\""), "\(html)")
        // No drill charts without drills; the trend chart still shows the months before.
        #expect(!html.stdout.contains("chart-rto") && html.stdout.count(of: "chart chart-trend") == 2)

        // A repository with nothing at all yet: the same, not a crash.
        let fresh = try ReportSandbox()
        let empty = try fresh.report(["--month", "2026-11", "--format", "json"])
        #expect(empty.status == 0, "\(empty)")
        let verdict = try ReportJSON(empty.stdout).string("verdict")
        #expect(verdict?.hasPrefix("No drills in 2026-11") == true, "\(empty)")
    }

    @Test func aCorruptRecordOrManifestIsAnErrorNamingIt() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let key = "records/cache/drills/20261112T050000.000Z-abcdef.json"
        try Data("{\"format\": \"drctl-drill-record\", \"version\": 1, \"drill_id\": ".utf8)
            .write(to: URL(fileURLWithPath: "\(box.primary)/\(key)"))
        for format in ["md", "json", "html"] {
            let result = try box.report(["--month", "2026-11", "--format", format])
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.contains(key) && result.stderr.contains("region 'local'"), "\(result)")
            #expect(result.stdout.isEmpty, "nothing half-made is printed")
        }
        // Outside the report's twelve months it is not read at all.
        let later = try box.report(["--month", "2028-01", "--format", "json"])
        #expect(later.status == 0, "\(later)")
        try FileManager.default.removeItem(atPath: "\(box.primary)/\(key)")

        let manifest = "manifests/app-db/20261129T030000.000Z-abcdef.json"
        try Data("not json".utf8).write(to: URL(fileURLWithPath: "\(box.secondary)/\(manifest)"))
        let result = try box.report(["--month", "2026-11"])
        #expect(result.status == 3 && result.stderr.contains(manifest) && result.stderr.contains("region 'backup'"), "\(result)")
        try FileManager.default.removeItem(atPath: "\(box.secondary)/\(manifest)")

        let misnamed = "records/app-db/failures/yesterday.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(box.primary)/\(misnamed)"))
        let named = try box.report(["--month", "2026-11"])
        #expect(named.status == 3 && named.stderr.contains(misnamed), "\(named)")
    }

    @Test func aRegionThatCannotBeReadIsNamedAndTheOthersServe() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        try box.makeManifestsUnlistable(in: box.secondary)
        let json = try box.report(["--month", "2026-11", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let report = try ReportJSON(json.stdout)
        #expect(report.array("unreadable_regions").map { $0.string("region") } == ["backup"])
        let storage = try report.target("app-db").array("storage")
        #expect(storage.map { $0.int("backups") } == [5, nil] && storage[1].string("error") != nil)
        // The drill held only by the unreadable region is missing, and the report says it may be incomplete.
        #expect(try report.target("app-db").array("drills").count == 3)
        let markdown = try box.report(["--month", "2026-11"])
        #expect(markdown.stdout.contains("region `backup` could not be read") && markdown.stdout.contains("may be incomplete"))
        #expect(json.stderr.contains("region unreadable"))

        // No region answering is a failure, not an empty report.
        try box.makeManifestsUnlistable(in: box.primary)
        let none = try box.report(["--month", "2026-11", "--format", "json"])
        #expect(none.status == 1 && none.stderr.contains("failed in every region") && none.stdout.isEmpty, "\(none)")
    }

    /// docs/OPERATIONS.md's JSON output contract shows exactly the keys drctl writes.
    @Test func theDocumentedJSONContractHasTheKeysDrctlWrites() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/OPERATIONS.md"), encoding: .utf8)
        let section = try #require(document.slice(from: "### JSON output contract", to: "\n| key |"))
        let example = try #require(section.slice(from: "```json\n", to: "```"))
        let documented = try JSONSerialization.jsonObject(with: Data(example.utf8))

        let box = try ReportSandbox()
        try box.writeNovember()
        try box.makeManifestsUnlistable(in: box.secondary)
        let json = try box.report(["--month", "2026-11", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let written = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8))
        #expect(keyPaths(documented) == keyPaths(written), "documented: \(keyPaths(documented).symmetricDifference(keyPaths(written)))")
        #expect(json.stdout.contains("\"format\" : \"drctl-drill-report\"") && json.stdout.hasSuffix("}\n"), "sorted, pretty, like the records")
    }

    /// Every key path of a JSON value (`targets.[].drills.[].rto_seconds`), arrays merged.
    func keyPaths(_ json: Any, prefix: String = "") -> Set<String> {
        switch json {
        case let object as [String: Any]:
            return object.reduce(into: Set<String>()) { paths, entry in
                paths.insert(prefix + entry.key)
                paths.formUnion(keyPaths(entry.value, prefix: prefix + entry.key + "."))
            }
        case let array as [Any]:
            return array.reduce(into: Set<String>()) { $0.formUnion(keyPaths($1, prefix: prefix + "[].")) }
        default:
            return []
        }
    }

    @Test func outputIsWrittenAtomicallyAndReplacesTheOldReport() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        let directory = "\(box.sandbox.root)/out"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/2026-11.json"
        try Data("old report".utf8).write(to: URL(fileURLWithPath: path))
        let result = try box.report(["--month", "2026-11", "--format", "json", "--output", path])
        #expect(result.status == 0 && result.stdout.isEmpty, "\(result)")
        let written = try ReportJSON(try String(contentsOfFile: path, encoding: .utf8))
        #expect(written.string("month") == "2026-11" && written.array("targets").count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["2026-11.json"], "no temporary file left")
        // A failed report leaves the previous file as it was.
        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(box.primary)/records/cache/drills/20261112T050000.000Z-abcdef.json"))
        let failed = try box.report(["--month", "2026-11", "--format", "json", "--output", path])
        #expect(failed.status == 3)
        #expect(try ReportJSON(try String(contentsOfFile: path, encoding: .utf8)).string("generated_at") == written.string("generated_at"))
        // An output in a missing directory is a clear error.
        let missing = try box.report(["--month", "2026-10", "--output", "\(box.sandbox.root)/nowhere/report.md"])
        #expect(missing.status == 1 && missing.stderr.contains("nowhere/report.md"), "\(missing)")
    }

    /// A report is for sharing and holds no secret: its file is created like any ordinary file,
    /// as the user's umask allows (0644 under 022), not 0600 like a restored backup.
    @Test func reportFilesAreCreatedAsTheUmaskAllows() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        for (umask, expected) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
            for format in ["md", "html", "json"] {
                let path = "\(box.sandbox.root)/report-\(umask).\(format)"
                let run = try Command.run(["/bin/sh", "-c", "umask \(umask); exec \"$0\" \"$@\"", Drctl.binary, "report",
                                           "--policy", box.sandbox.policyPath, "--month", "2026-11", "--format", format, "--output", path])
                #expect(run.status == 0, "\(run)")
                let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
                #expect(mode == expected, "umask \(umask), \(format): \(String(mode, radix: 8))")
            }
        }
    }

    @Test func usageErrorsAndTheDefaultMonth() throws {
        let box = try ReportSandbox()
        try box.writeNovember()
        for month in ["2026-13", "2026-1", "26-11", "november", "2026-11-01"] {
            let result = try box.report(["--month", month])
            #expect(result.status == 2 && result.stderr.contains("YYYY-MM"), "\(month): \(result)")
        }
        let format = try box.report(["--format", "pdf"])
        #expect(format.status == 2, "\(format)")
        let unknown = try box.report(["--month", "2026-11", "--target", "nope"])
        #expect(unknown.status == 5 && unknown.stderr.contains("no target named 'nope'"), "\(unknown)")
        let one = try ReportJSON(try box.report(["--month", "2026-11", "--target", "cache", "--format", "json"]).stdout)
        #expect(one.array("targets").map { $0.string("name") } == ["cache"])
        #expect(one.bool("ok") == true && one.string("verdict") == "Target cache met its objectives in 2026-11")

        // Without --month: the month before this one (UTC), what an operator reviews on the 1st.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let previous = calendar.date(byAdding: .month, value: -1, to: Date())!
        let expected = String(format: "%04d-%02d", calendar.component(.year, from: previous), calendar.component(.month, from: previous))
        let byDefault = try ReportJSON(try box.report(["--format", "json"]).stdout)
        #expect(byDefault.string("month") == expected)
    }

    /// A duration as Markdown shows it equals the JSON value to the precision shown.
    func expectSame(_ shown: String, _ value: Double?, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let value else {
            #expect(shown == "–", "expected no value, Markdown shows \(shown)", sourceLocation: sourceLocation)
            return
        }
        let parsed = try #require(ShownDuration(shown), "not a duration: \(shown)", sourceLocation: sourceLocation)
        #expect(abs(parsed.seconds - value) <= parsed.tolerance, "Markdown shows \(shown), JSON has \(value)", sourceLocation: sourceLocation)
    }

    func expectSameBytes(_ shown: String, _ value: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let parts = shown.split(separator: " ")
        let number = try #require(Double(parts[0]), sourceLocation: sourceLocation)
        let units: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
        let unit: Double = try #require(units[String(parts[1])], sourceLocation: sourceLocation)
        let difference: Double = abs(number * unit - Double(value))
        #expect(difference <= unit * 0.05, "Markdown shows \(shown), JSON has \(value)", sourceLocation: sourceLocation)
    }
}

/// A duration as the report prints it (`2.50 s`, `41.5 s`, `1m 15s`, `3h 07m`, `2d 04h`).
struct ShownDuration {
    let seconds: Double
    let tolerance: Double

    init?(_ text: String) {
        let parts = text.split(separator: " ").map(String.init)
        func split(_ part: String) -> (Double, Character)? {
            guard let unit = part.last, let number = Double(part.dropLast()) else { return nil }
            return (number, unit)
        }
        if parts.count == 2, parts[1] == "s", let value = Double(parts[0]) {
            let decimals = parts[0].split(separator: ".").last.map(\.count) ?? 0
            seconds = value
            tolerance = 0.5 * pow(10, -Double(decimals)) + 1e-9
            return
        }
        guard parts.count == 2, let (big, bigUnit) = split(parts[0]), let (small, smallUnit) = split(parts[1]) else { return nil }
        let units: [Character: Double] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        guard let bigScale = units[bigUnit], let smallScale = units[smallUnit] else { return nil }
        seconds = big * bigScale + small * smallScale
        tolerance = smallScale / 2
    }
}

/// The JSON form, read with JSONSerialization (the contract, not drctl's own types).
struct ReportJSON {
    let value: [String: Any]

    init(_ text: String) throws {
        value = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    init(object: [String: Any]) { value = object }

    func string(_ key: String) -> String? { value[key] as? String }
    func int(_ key: String) -> Int? { (value[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (value[key] as? NSNumber)?.doubleValue }
    func bool(_ key: String) -> Bool? { value[key] as? Bool }
    func object(_ key: String) -> ReportJSON { ReportJSON(object: value[key] as? [String: Any] ?? [:]) }
    func array(_ key: String) -> [ReportJSON] { (value[key] as? [[String: Any]] ?? []).map(ReportJSON.init(object:)) }

    func target(_ name: String) throws -> ReportJSON {
        try #require(array("targets").first { $0.string("name") == name }, "no target \(name) in the JSON report")
    }
}

/// Just enough Markdown reading for the report: sections by heading, tables as cells.
struct MarkdownDocument {
    let text: String

    init(_ text: String) { self.text = text }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "*", with: "\\*")
    }

    /// From `heading` up to the next heading of the same level.
    func section(_ heading: String) -> MarkdownDocument? {
        guard let start = text.range(of: "\n\(heading)\n") else { return nil }
        let level = heading.prefix { $0 == "#" }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n\(level) ")?.lowerBound ?? rest.endIndex
        return MarkdownDocument(String(rest[..<end]))
    }

    /// The body rows of the first table after `heading`, as trimmed cells (`\|` unescaped).
    func table(after heading: String) -> [[String]] {
        guard let start = text.range(of: heading) else { return [] }
        let lines = text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.firstIndex(where: { $0.hasPrefix("|") }) else { return [] }
        let rows = lines[first...].prefix { $0.hasPrefix("|") }.dropFirst(2)
        return rows.map { line in
            let placeholder = "\u{0}"
            return line.replacingOccurrences(of: "\\|", with: placeholder).dropFirst().dropLast()
                .split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: placeholder, with: "|") }
        }
    }
}

extension String {
    /// The text between the first `start` and the next `end` after it.
    func slice(from start: String, to end: String) -> String? {
        guard let head = range(of: start), let tail = self[head.upperBound...].range(of: end) else { return nil }
        return String(self[head.upperBound..<tail.lowerBound])
    }

    func count(of needle: String) -> Int { components(separatedBy: needle).count - 1 }

    func count(ofPattern pattern: String) -> Int {
        (try? NSRegularExpression(pattern: pattern)).map { $0.numberOfMatches(in: self, range: NSRange(startIndex..., in: self)) } ?? 0
    }

    /// The numeric capture groups of every match.
    func matches(ofPattern pattern: String) -> [[Double]] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        return expression.matches(in: self, range: NSRange(startIndex..., in: self)).map { match in
            (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: self).flatMap { Double(self[$0]) } }
        }
    }
}
