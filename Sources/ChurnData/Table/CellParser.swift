/// Reading typed values out of CSV cells and record fields, without making strings on the way.
enum CellParser {
    /// The bytes without surrounding spaces and tabs (documented: surrounding spaces are ignored).
    @inline(__always)
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A plain decimal number (`12`, `-3.5`, `1e3`), or nil. No `inf`, `nan`, hex or thousands separators.
    static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var sawDigit = false
        while index < count, bytes[index] >= 48, bytes[index] <= 57 {
            if significant < 18 {
                mantissa = mantissa * 10 + UInt64(bytes[index] - 48)
                if mantissa > 0 { significant += 1 }
            } else {
                exponent += 1
            }
            sawDigit = true
            index += 1
        }
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, bytes[index] >= 48, bytes[index] <= 57 {
                if significant < 18 {
                    mantissa = mantissa * 10 + UInt64(bytes[index] - 48)
                    if mantissa > 0 { significant += 1 }
                    exponent -= 1
                }
                sawDigit = true
                index += 1
            }
        }
        guard sawDigit else { return nil }
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            var sawExponentDigit = false
            while index < count, bytes[index] >= 48, bytes[index] <= 57 {
                written = min(written * 10 + Int(bytes[index] - 48), 100_000)
                sawExponentDigit = true
                index += 1
            }
            guard sawExponentDigit else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard index == count else { return nil }
        let value: Double
        if mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            // Exact: both operands are exactly representable, so one rounding.
            value = exponent < 0 ? Double(mantissa) / powersOfTen[-exponent] : Double(mantissa) * powersOfTen[exponent]
        } else {
            guard let parsed = Double(String(decoding: bytes, as: UTF8.self).trimmingPlusSign()), parsed.isFinite else {
                return nil
            }
            return parsed
        }
        return negative ? -value : value
    }
}

extension String {
    fileprivate func trimmingPlusSign() -> String {
        hasPrefix("+") ? String(dropFirst()) : self
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
