/// Decimal digits of integers, appended to bytes without making a `String`: for writers of
/// millions of numbers (JSON on the predict path, CSV scores files).
public enum DecimalText {
    /// Appends the digits of a non-negative integer, zero-padded to at least `minimum` digits.
    @inline(__always)
    public static func append(_ value: Int, minimum: Int = 1, to output: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            )
        var count = 0
        var rest = value.magnitude
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while (rest > 0 || count < minimum) && count < raw.count
            for index in stride(from: count - 1, through: 0, by: -1) { output.append(raw[index]) }
        }
    }
}
