/// A writer that a region's stall watch can see moving and can stop from outside.
///
/// `ObjectWriter` calls stay on one thread; these two are the exceptions, callable from any thread.
public protocol StallAwareWriter: ObjectWriter {
    /// `handler` is called (from any thread) whenever bytes reached the backend while a
    /// `write` or `commit` call is still running, e.g. each uploaded part.
    func observeProgress(_ handler: @escaping @Sendable () -> Void)
    /// Makes blocked and later requests fail soon. `abort()` still removes what was written.
    func cancel()
}
