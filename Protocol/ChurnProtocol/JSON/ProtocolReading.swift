/// What the protocol's direct readers (``JSONDirectReading``) read besides plain JSON: a
/// record's field value and a JSON-RPC id.
extension JSONReader {
    /// A record's field value (a string, number, boolean or null); nil for an array, an object
    /// or bad input.
    public mutating func scalar() -> FieldValue? {
        switch scalarValue() {
        case .string(let text)?: .string(text)
        case .number(let number)?: .number(number)
        case .bool(let flag)?: .bool(flag)
        case .null?: .null
        default: nil
        }
    }

    /// A JSON-RPC id: a string, or a number kept as its exact text.
    public mutating func requestID() -> RPCID? {
        if peek() == UInt8(ascii: "\"") { return string().map(RPCID.string) }
        return numberWithText().map { .number(RPCID.Number(parsedText: $0.text)) }
    }
}
