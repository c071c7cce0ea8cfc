import Foundation

extension PluginMethod {
    /// Finish in-flight work, answer, and exit.
    public enum Shutdown: RPCMethod {
        public static let name = "shutdown"
        public typealias Params = NoParams
        public typealias Result = NoParams
    }
}
