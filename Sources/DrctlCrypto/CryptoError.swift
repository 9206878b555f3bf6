/// An error of drctl's cryptography: a key file, a wrapped data key or a sealed stream.
///
/// Callers tell the causes apart by `code` (`error.code == .wrongKey`), or in a `catch`
/// clause by pattern (`catch CryptoError.Code.wrongKey`). New codes may be added later
/// without breaking callers, since `Code` is a struct of known values, not an enum.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        // Key files.
        /// The key file does not exist.
        public static let keyFileMissing = Code("keyFileMissing")
        /// The key file exists but cannot be read (permissions, I/O error).
        public static let keyFileUnreadable = Code("keyFileUnreadable")
        /// A secret key file that others than its owner may read (or write).
        public static let keyFileTooOpen = Code("keyFileTooOpen")
        /// Writing a key file: a file already exists at that path (keys are never overwritten).
        public static let keyFileExists = Code("keyFileExists")
        /// Writing a key file failed (directory missing, disk full, …).
        public static let keyFileWriteFailed = Code("keyFileWriteFailed")
        /// A secret key file was given where a public key is expected.
        public static let secretKeyGivenForPublic = Code("secretKeyGivenForPublic")
        /// A public key file was given where the secret key is needed.
        public static let publicKeyGivenForSecret = Code("publicKeyGivenForSecret")
        /// A key file of another kind than expected (a writer key where the signing key is
        /// needed, a signing key where the secret key is, …); the message names both kinds.
        public static let wrongKeyKind = Code("wrongKeyKind")
        /// The key file is not in drctl's key file format.
        public static let malformedKeyFile = Code("malformedKeyFile")
        /// Key bytes of the wrong length (a key file or raw bytes).
        public static let invalidKeyLength = Code("invalidKeyLength")
        /// A public key that is not usable for X25519 (a low-order point).
        public static let invalidPublicKey = Code("invalidPublicKey")

        // Wrapped data keys (manifest).
        /// The backup's data key was wrapped for another key.
        public static let wrongKey = Code("wrongKey")
        /// The wrapped data key failed authentication: the manifest was altered.
        public static let manifestKeyTampered = Code("manifestKeyTampered")
        /// The wrapped data key's fields are not well formed (bad base64, wrong lengths).
        public static let malformedWrappedKey = Code("malformedWrappedKey")

        // Sealed streams.
        /// The object does not start with the sealed stream magic.
        public static let notSealedStream = Code("notSealedStream")
        /// A sealed stream of a format version this drctl does not know.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// A sealed stream with an unknown algorithm byte.
        public static let unsupportedAlgorithm = Code("unsupportedAlgorithm")
        /// A sealed stream with a chunk size outside the allowed range.
        public static let unsupportedChunkSize = Code("unsupportedChunkSize")
        /// The stream's header names another backup: data from another backup.
        public static let wrongBackup = Code("wrongBackup")
        /// The stream's header names another object of the backup.
        public static let wrongObject = Code("wrongObject")
        /// The stream's header failed authentication (altered, or another data key).
        public static let headerTampered = Code("headerTampered")
        /// A chunk failed authentication: corrupted or altered.
        public static let chunkTampered = Code("chunkTampered")
        /// A chunk authenticates, but at another position: chunks reordered, swapped or removed.
        public static let chunksReordered = Code("chunksReordered")
        /// The stream ends early: inside the header, inside a chunk's tag, or without a final chunk.
        public static let truncated = Code("truncated")
        /// The stream ends in a partial-length chunk that does not authenticate: it was cut
        /// short inside that chunk, or its final chunk was altered (the two cannot be told apart).
        public static let truncatedOrTampered = Code("truncatedOrTampered")
        /// Bytes follow the final chunk.
        public static let dataAppended = Code("dataAppended")
    }

    public let code: Code
    /// The full message: what happened, why, and what to do.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    // The codes again as `CryptoError.wrongKey` etc., for `catch CryptoError.wrongKey { … }`
    // and `error.code == CryptoError.wrongKey`.
    public static let keyFileMissing = Code.keyFileMissing
    public static let keyFileUnreadable = Code.keyFileUnreadable
    public static let keyFileExists = Code.keyFileExists
    public static let keyFileWriteFailed = Code.keyFileWriteFailed
    public static let secretKeyGivenForPublic = Code.secretKeyGivenForPublic
    public static let publicKeyGivenForSecret = Code.publicKeyGivenForSecret
    public static let wrongKeyKind = Code.wrongKeyKind
    public static let malformedKeyFile = Code.malformedKeyFile
    public static let invalidKeyLength = Code.invalidKeyLength
    public static let invalidPublicKey = Code.invalidPublicKey
    public static let wrongKey = Code.wrongKey
    public static let manifestKeyTampered = Code.manifestKeyTampered
    public static let malformedWrappedKey = Code.malformedWrappedKey
    public static let notSealedStream = Code.notSealedStream
    public static let unsupportedVersion = Code.unsupportedVersion
    public static let unsupportedAlgorithm = Code.unsupportedAlgorithm
    public static let unsupportedChunkSize = Code.unsupportedChunkSize
    public static let wrongBackup = Code.wrongBackup
    public static let wrongObject = Code.wrongObject
    public static let headerTampered = Code.headerTampered
    public static let chunkTampered = Code.chunkTampered
    public static let chunksReordered = Code.chunksReordered
    public static let truncated = Code.truncated
    public static let truncatedOrTampered = Code.truncatedOrTampered
    public static let dataAppended = Code.dataAppended
}

extension CryptoError.Code {
    /// Lets a `catch` clause match a code: `catch CryptoError.Code.truncated { … }`.
    public static func ~= (code: CryptoError.Code, error: any Error) -> Bool {
        (error as? CryptoError)?.code == code
    }
}
