import Testing
@testable import DrctlPipeline

/// drctl sets malloc's thresholds when it starts (`MallocSettings`): glibc must take both values
/// (it refuses an mmap threshold above 32 MiB, for one).
@Suite struct MallocSettingsTests {
    @Test func glibcTakesBothThresholds() {
        #expect(GlibcSymbols.mallopt != nil)
        #expect(GlibcSymbols.mallocTrim != nil)
        #expect(MallocSettings.apply())
    }
}
