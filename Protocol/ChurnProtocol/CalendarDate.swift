/// A day written as ISO 8601's calendar date `YYYY-MM-DD` (proleptic Gregorian, years 0001 to
/// 9999): the `date` of a `feedback` outcome.
///
/// Read strictly, so an impossible day (`2026-02-30`), a short form (`2026-2-3`) or a signed or
/// zero year (`-2026-01-01`, `0000-01-01`) is refused instead of stored; and compared as days,
/// not as text (as text, `2026-2-3` sorts after `2026-12-01`).
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Why a text is not a calendar date, phrased for a person.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text as given.
        public var text: String
        public var reason: String

        public var description: String { reason }
    }

    /// The date `text` spells exactly as `YYYY-MM-DD`.
    public init(parsing text: String) throws(Invalid) {
        let bytes = Array(text.utf8)
        let digits: (Range<Int>) -> Int? = { range in
            var value = 0
            for index in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10)
        else {
            throw Invalid(
                text: text,
                reason: "expected an ISO 8601 date YYYY-MM-DD (four-digit year, two-digit month and day, as 2026-02-03), got \(JSONValue.string(text).brief)")
        }
        try self.init(year: year, month: month, day: day, text: text)
    }

    /// The date `text` spells as churnd stored outcome dates before it read them strictly: the
    /// month and day may have one digit (`2026-2-3`). Nil for anything else, or an impossible day.
    public init?(storedText text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
            parts.allSatisfy({ $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            let date = try? CalendarDate(year: year, month: month, day: day, text: text)
        else { return nil }
        self = date
    }

    private init(year: Int, month: Int, day: Int, text: String) throws(Invalid) {
        guard (1...9999).contains(year) else {
            throw Invalid(text: text, reason: "year \(text.prefix(4)) is outside the calendar: years run from 0001 to 9999")
        }
        guard (1...12).contains(month) else {
            throw Invalid(text: text, reason: "\(text) has no month \(month): months run from 01 to 12")
        }
        let length = Self.days(inMonth: month, of: year)
        guard (1...length).contains(day) else {
            throw Invalid(text: text, reason: "\(text) is not a day: month \(month) of \(year) has \(length) days")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days in `month` (1-12) of `year`, leap years as the Gregorian calendar counts them.
    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    public static func < (left: CalendarDate, right: CalendarDate) -> Bool {
        (left.year, left.month, left.day) < (right.year, right.month, right.day)
    }
}
