import CLibraryLoader
import Foundation
import Testing

/// CLibraryLoader, behind libpq and libcurl (loaded on first use): a library that is missing or
/// lacks a function is a message naming it and the package to install, never a null address.
@Suite struct LibraryLoaderTests {
    /// A `drctl_library` for `soname` resolving `symbols`; the C strings live as long as the test
    /// process (they are few and tiny).
    private func library(_ soname: String, package: String, symbols: [String]) -> (UnsafeMutablePointer<drctl_library>, UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        let names = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: symbols.count)
        for (i, symbol) in symbols.enumerated() { names[i] = UnsafePointer(strdup(symbol)) }
        let addresses = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: symbols.count)
        addresses.initialize(repeating: nil, count: symbols.count)
        let library = UnsafeMutablePointer<drctl_library>.allocate(capacity: 1)
        library.initialize(to: drctl_library())
        library.pointee.soname = UnsafePointer(strdup(soname))
        library.pointee.purpose = UnsafePointer(strdup("for this test"))
        library.pointee.package = UnsafePointer(strdup(package))
        library.pointee.symbols = UnsafePointer(names)
        library.pointee.addresses = addresses
        library.pointee.count = symbols.count
        return (library, addresses)
    }

    @Test func aLoadedLibraryResolvesEveryFunction() throws {
        let (zstd, addresses) = library("libzstd.so.1", package: "libzstd1", symbols: ["ZSTD_versionNumber", "ZSTD_compressBound"])
        #expect(drctl_library_load(zstd) == nil)
        #expect(addresses[0] != nil && addresses[1] != nil)
        #expect(drctl_library_symbol(zstd, 1) == addresses[1])
        #expect(drctl_library_load(zstd) == nil)   // once loaded, stays loaded
    }

    @Test func aMissingLibraryNamesItselfAndThePackageToInstall() throws {
        let (missing, addresses) = library("libdrctl-absent.so.9", package: "libdrctl-absent9", symbols: ["absent_function"])
        let message = String(cString: try #require(drctl_library_load(missing)))
        #expect(message.contains("cannot load libdrctl-absent.so.9, which drctl needs for this test"), "\(message)")
        #expect(message.contains("install the libdrctl-absent9 package"), "\(message)")
        #expect(addresses[0] == nil)
        // Tried once: the second call answers the same without trying again.
        #expect(String(cString: try #require(drctl_library_load(missing))) == message)
    }

    @Test func aLibraryLackingAFunctionNamesTheFunction() throws {
        let (zstd, _) = library("libzstd.so.1", package: "libzstd1", symbols: ["ZSTD_versionNumber", "ZSTD_noSuchFunction"])
        let message = String(cString: try #require(drctl_library_load(zstd)))
        #expect(message.contains("libzstd.so.1 lacks ZSTD_noSuchFunction"), "\(message)")
        #expect(message.contains("libzstd1 package"), "\(message)")
    }
}
