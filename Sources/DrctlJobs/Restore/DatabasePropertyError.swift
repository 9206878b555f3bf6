/// A database of a logical backup that the destination server cannot create as it was backed
/// up: found before any data is loaded, naming the database and the property.
public struct DatabasePropertyError: Error, CustomStringConvertible {
    public let database: String
    public let destination: String
    /// What is missing or refused, e.g. "its tablespace 'fast' does not exist".
    public let problem: String
    /// What the user can do about it.
    public let advice: String

    public var description: String {
        "database '\(database)' cannot be restored on \(destination) as it was backed up: \(problem). "
            + "Nothing was loaded. \(advice)"
    }
}
