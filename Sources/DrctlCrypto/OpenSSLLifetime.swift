import COpenSSL

/// OpenSSL stays usable until the process is gone. By default it frees its global state (its
/// locks, the algorithms it fetched) in an `atexit` handler, so a thread still at work when
/// `exit` runs crashes on the freed state: a failed backup exits without waiting for a frozen
/// region's writer, which meanwhile aborts its upload with a signed request, and drctl then died
/// of SIGSEGV after its work was done instead of exiting with its code (scripts/test-tsan.sh
/// showed it in `HungRegionTests`). The kernel frees the memory anyway.
public enum OpenSSLLifetime {
    /// Call first thing in `main`, before anything else (libcurl, libpq) touches OpenSSL: only
    /// the first initialisation decides whether the handler is registered.
    public static func keepUntilExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
