/// A small seeded generator (SplitMix64). Each round draws from its own stream, derived from the
/// seed, the round and what is drawn, so the draws never depend on threads or on earlier rounds.
struct BoostingRandom: RandomNumberGenerator {
    private var state: UInt64

    /// What a stream is drawn for.
    enum Purpose: UInt64 {
        case rows = 1
        case features = 2
    }

    init(seed: UInt64, round: Int, purpose: Purpose) {
        state = Self.mix(seed ^ Self.mix(UInt64(round) &* 0x9E37_79B9_7F4A_7C15 &+ purpose.rawValue))
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// The rows and features one round's tree sees.
enum Sampling {
    /// Exactly `round(fraction * rows)` rows (at least 1) drawn without replacement, written in
    /// ascending order to `order` (selection sampling, Knuth's algorithm S); returns how many.
    /// `inBag[row]` says whether a row was drawn.
    static func rows(
        fraction: Double, rows: Int, random: inout BoostingRandom, order: UnsafeMutablePointer<Int32>,
        inBag: UnsafeMutablePointer<Bool>
    ) -> Int {
        guard fraction < 1 else {
            for row in 0..<rows {
                order[row] = Int32(row)
                inBag[row] = true
            }
            return rows
        }
        let wanted = max(1, min(rows, Int((fraction * Double(rows)).rounded())))
        var needed = wanted
        var taken = 0
        for row in 0..<rows {
            let chosen = needed > 0 && random.unit() * Double(rows - row) < Double(needed)
            inBag[row] = chosen
            if chosen {
                order[taken] = Int32(row)
                taken += 1
                needed -= 1
            }
        }
        return taken
    }

    /// `round(fraction * count)` features (at least 1) of `0..<count`, drawn without replacement,
    /// ascending.
    static func features(fraction: Double, count: Int, random: inout BoostingRandom) -> [Int] {
        guard fraction < 1 else { return Array(0..<count) }
        let wanted = max(1, min(count, Int((fraction * Double(count)).rounded())))
        var pool = Array(0..<count)
        for index in 0..<wanted {
            pool.swapAt(index, index + Int(random.next(upperBound: UInt64(count - index))))
        }
        return pool[0..<wanted].sorted()
    }
}
