import Testing
import DrctlSources

@Suite struct LibraryTests {
    @Test func libpqReportsItsVersion() {
        #expect(LibPQ.version.split(separator: ".").count == 2)
    }
}
