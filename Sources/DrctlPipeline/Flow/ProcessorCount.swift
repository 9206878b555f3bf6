import Foundation

enum ProcessorCount {
    /// Cores this process may use.
    static var online: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
