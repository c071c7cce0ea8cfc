import Foundation

/// Writes RFC 4180 CSV (LF line ends; fields quoted only when they must be), buffered.
public struct CSVWriter: ~Copyable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    public let path: String

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(DataError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .unreadable(file: path, reason: "cannot create the file")
        }
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends one row.
    public mutating func write(_ fields: [String]) throws(DataError) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            Self.appendField(field, to: &buffer)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered.
    public mutating func flush() throws(DataError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw .unreadable(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    public consuming func close() throws(DataError) {
        try flush()
        try? handle.close()
    }

    static func appendField(_ field: String, to output: inout [UInt8]) {
        let needsQuotes = field.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            output.append(contentsOf: field.utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension TelcoDataset {
    /// The canonical (Kaggle) header.
    public static var canonicalHeader: [String] {
        [TelcoSchema.idField, "gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "PhoneService", "MultipleLines",
         "InternetService", "OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
         "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod", "MonthlyCharges", "TotalCharges"]
    }

    /// Writes the rows as a canonical telco CSV (with a `Churn` column when labelled).
    public func writeCSV(to path: String) throws(DataError) {
        var writer = try CSVWriter(path: path)
        let labelled = churned != nil
        try writer.write(Self.canonicalHeader + (labelled ? [TelcoSchema.labelField] : []))
        for row in 0..<customers.count {
            let customer = customers.customer(at: row)
            var fields: [String] = []
            fields.reserveCapacity(21)
            for name in Self.canonicalHeader {
                if name == TelcoSchema.idField {
                    fields.append(customer.id)
                } else if let field = CategoricalField(name: name) {
                    fields.append(customer[field])
                } else if let field = NumericField(name: name) {
                    fields.append(customer[field].map(Self.format) ?? " ")
                }
            }
            if let churned { fields.append(churned[row] ? "Yes" : "No") }
            try writer.write(fields)
        }
        try writer.close()
    }

    /// A number as the telco files write it: whole numbers without a fraction.
    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
