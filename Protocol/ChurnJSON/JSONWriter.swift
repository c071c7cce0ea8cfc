/// Serialises ``JSONValue`` to compact UTF-8 JSON. Integral numbers below 2^53 are written
/// without a fraction (`3`, not `3.0`); other numbers in Swift's shortest round-trip form.
/// Non-finite numbers have no JSON form and are written as `null`.
public enum JSONWriter {
    /// The JSON text of `value`.
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    /// Appends the JSON text of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag):
            if flag { output.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else {
                output.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case .number(let number):
            writeNumber(number, into: &output)
        case .string(let text):
            writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in members {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a number as JSON writes it: the shortest text that reads back as the same
    /// `Double` (integers without a fraction), `null` for a value JSON cannot hold.
    public static func writeNumber(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        if number.rounded(.towardZero) == number, abs(number) < 9_007_199_254_740_992 {
            if number < 0 { output.append(UInt8(ascii: "-")) }
            DecimalText.append(Int(number.magnitude), to: &output)
            return
        }
        if writeShortDecimal(number, into: &output) { return }
        output.append(contentsOf: number.description.utf8)
    }

    /// Writes a number of at most four decimals (a price, minutes, gigabytes) as those digits,
    /// without the general shortest-digits search: `scaled / 10^k == number` means the text
    /// `scaled`·10^-k reads back as exactly `number` (both are the correctly rounded value of
    /// the same decimal). False, writing nothing, for any other number.
    @inline(__always)
    private static func writeShortDecimal(_ number: Double, into output: inout [UInt8]) -> Bool {
        let magnitude = abs(number)
        guard magnitude >= 1e-4, magnitude < 1e11 else { return false }
        var scale = 1.0
        for decimals in 1...4 {
            scale *= 10
            let scaled = (magnitude * scale).rounded()
            guard scaled / scale == magnitude else { continue }
            if number < 0 { output.append(UInt8(ascii: "-")) }
            let units = Int(scaled)
            let divisor = decimals == 1 ? 10 : decimals == 2 ? 100 : decimals == 3 ? 1000 : 10000
            DecimalText.append(units / divisor, to: &output)
            output.append(UInt8(ascii: "."))
            DecimalText.append(units % divisor, minimum: decimals, to: &output)
            return true
        }
        return false
    }

    /// Appends a string in quotes, escaped as RFC 8259 requires.
    public static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Fast path: contiguous text with nothing to escape is copied in one go.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: output.append(contentsOf: [0x5C, 0x72])
            case 0x09: output.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
