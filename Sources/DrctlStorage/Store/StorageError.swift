/// A storage operation that failed, naming the key, the store and the cause.
public enum StorageError: Error, CustomStringConvertible, Equatable {
    case io(operation: String, key: String, location: String, reason: String)
    case noSpace(key: String, location: String)
    case alreadyExists(key: String, location: String)
    case notFound(key: String, location: String)
    case invalidKey(String)
    case tooLarge(key: String, size: UInt64, limit: UInt64, location: String)

    public var description: String {
        switch self {
        case .io(let operation, let key, let location, let reason):
            return "cannot \(operation) '\(key)' in \(location): \(reason)"
        case .noSpace(let key, let location):
            return "no space left on the device holding \(location) while writing '\(key)'"
        case .alreadyExists(let key, let location):
            return "'\(key)' already exists in \(location); stored objects are never overwritten"
        case .notFound(let key, let location):
            return "'\(key)' does not exist in \(location)"
        case .invalidKey(let key):
            return "invalid object key '\(key)'"
        case .tooLarge(let key, let size, let limit, let location):
            return "'\(key)' in \(location) is \(size) bytes, more than the \(limit) expected"
        }
    }
}
