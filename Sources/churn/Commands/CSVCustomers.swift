import ChurnProtocol
import Foundation

/// Placeholder until ChurnData lands.
enum CSVCustomers {
    static func records(from data: Data, source: String) throws -> [CustomerRecord] {
        throw CleanExit.message("\(source): CSV input is not supported yet", code: 65)
    }
}
