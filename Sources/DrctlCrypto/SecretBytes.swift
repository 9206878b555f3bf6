import COpenSSL

/// Key material: the secret key, a data key, a key-encryption key, a stream's derived keys.
///
/// It lives in memory this object allocates and owns, and is wiped (`OPENSSL_cleanse`, which
/// the compiler may not optimise away) when the last reference goes: a released key does not
/// linger in freed heap, where a core, a swapped-out page or the next allocation could show it.
/// A Swift array would leave its bytes behind in whatever its buffer became, and copy them
/// whenever it is passed on and changed. So the bytes go in through `fill` and out only
/// through `withUnsafeBytes`, to OpenSSL, never into an array that outlives them.
// unchecked: the raw buffer is written only while it is made (`fill`) and wiped only in `deinit`; in between, only read.
public final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let release: (UnsafeMutableRawBufferPointer) -> Void

    public var count: Int { storage.count }

    /// `count` bytes that `fill` writes (it is given the whole buffer).
    convenience init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count > 0, "key material of no bytes")
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        try self.init(adopting: storage, fill: fill, release: { $0.deallocate() })
    }

    /// A copy of `bytes`; wiping the caller's own copy, if it is secret, stays the caller's task.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { $0.copyBytes(from: bytes) }
    }

    /// Takes `storage` over: `fill` writes it, the deinitializer wipes it and hands it to
    /// `release`. Tests give memory they keep, to see it wiped.
    init(adopting storage: UnsafeMutableRawBufferPointer, fill: (UnsafeMutableRawBufferPointer) throws -> Void,
         release: @escaping (UnsafeMutableRawBufferPointer) -> Void) rethrows {
        do { try fill(storage) } catch {
            OPENSSL_cleanse(storage.baseAddress, storage.count)
            release(storage)
            throw error
        }
        self.storage = storage
        self.release = release
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        release(storage)
    }

    /// The bytes, for as long as `body` runs; do not let them escape it.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }
}

extension SecretBytes: Equatable {
    /// In time independent of where the bytes differ.
    public static func == (a: SecretBytes, b: SecretBytes) -> Bool {
        a.count == b.count && CRYPTO_memcmp(a.storage.baseAddress, b.storage.baseAddress, a.count) == 0
    }
}
