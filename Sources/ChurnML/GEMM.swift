import Dispatch

/// General matrix multiply on Float32: `C = op(A) · op(B)` (or `C += ...`), where `op` is the
/// identity or the transpose. Panels of A (4 rows) and B (16 columns) are packed contiguously,
/// and a 4×16 register-blocked kernel of SIMD8 multiplies and adds walks them (plain `+= a * b`:
/// `addProduct` would promise a fused result and, without FMA in the baseline x86-64 target,
/// call a scalar `fmaf` per lane); large products split their rows across two threads.
public enum GEMM {
    static let rowBlock = 4
    static let columnBlock = 16
    static let depthBlock = 256

    /// Products with more multiply-adds than this use both cores.
    public static let parallelThreshold = 2_000_000

    /// `C[m×n] (+)= op(A)[m×k] · op(B)[k×n]`. `lda`, `ldb`, `ldc` are the row strides of the
    /// matrices as stored (before any transpose).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        guard m > 0, n > 0 else { return }
        if !accumulate {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
        }
        guard k > 0 else { return }
        let parts = m * n * k >= parallelThreshold && m >= 2 * rowBlock ? 2 : 1
        if parts == 1 {
            kernelRows(0..<m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
            return
        }
        nonisolated(unsafe) let a = a, b = b, c = c
        let half = ((m / 2) + rowBlock - 1) / rowBlock * rowBlock
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            let rows = part == 0 ? 0..<half : half..<m
            kernelRows(rows, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        }
    }

    /// Matrix convenience: `C = A · B` with optional transposes.
    public static func multiply(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        precondition(k == (transposeB ? b.columns : b.rows), "inner dimensions differ")
        var result = Matrix(rows: m, columns: n)
        a.values.withUnsafeBufferPointer { a in
            b.values.withUnsafeBufferPointer { bBuffer in
                result.values.withUnsafeMutableBufferPointer { cBuffer in
                    multiply(
                        m: m, n: n, k: k, a: a.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA,
                        b: bBuffer.baseAddress!, ldb: transposeB ? k : n, transposeB: transposeB, c: cBuffer.baseAddress!,
                        ldc: n, accumulate: false)
                }
            }
        }
        return result
    }

    private static func kernelRows(
        _ rows: Range<Int>, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let panelColumns = (n + columnBlock - 1) / columnBlock * columnBlock
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: depthBlock * panelColumns)
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: depthBlock * rowBlock)
        defer {
            packedB.deallocate()
            packedA.deallocate()
        }
        var depthStart = 0
        while depthStart < k {
            let depth = min(depthBlock, k - depthStart)
            // Pack B[depthStart..<+depth, all columns] as column panels of 16, zero padded.
            for panel in stride(from: 0, to: panelColumns, by: columnBlock) {
                let target = packedB + panel * depth
                let width = min(columnBlock, n - panel)
                if transposeB {
                    for p in 0..<depth {
                        for j in 0..<width { target[p * columnBlock + j] = b[(panel + j) * ldb + depthStart + p] }
                        for j in width..<columnBlock { target[p * columnBlock + j] = 0 }
                    }
                } else {
                    for p in 0..<depth {
                        let source = b + (depthStart + p) * ldb + panel
                        (target + p * columnBlock).update(from: source, count: width)
                        for j in width..<columnBlock { target[p * columnBlock + j] = 0 }
                    }
                }
            }
            var rowStart = rows.lowerBound
            while rowStart < rows.upperBound {
                let height = min(rowBlock, rows.upperBound - rowStart)
                // Pack A[rowStart..<+4, depthStart..<+depth], depth-major, zero padded.
                for p in 0..<depth {
                    for i in 0..<rowBlock {
                        let row = rowStart + i
                        packedA[p * rowBlock + i] =
                            i < height
                            ? (transposeA ? a[(depthStart + p) * lda + row] : a[row * lda + depthStart + p]) : 0
                    }
                }
                for panel in stride(from: 0, to: n, by: columnBlock) {
                    micro(
                        depth: depth, a: packedA, b: packedB + panel * depth, c: c + rowStart * ldc + panel, ldc: ldc,
                        height: height, width: min(columnBlock, n - panel))
                }
                rowStart += rowBlock
            }
            depthStart += depth
        }
    }

    /// The 4×16 kernel: C[0..<height, 0..<width] += A(4×depth) · B(depth×16), packed.
    @inline(__always)
    private static func micro(
        depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        height: Int, width: Int
    ) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        let rawB = UnsafeRawPointer(b)
        for p in 0..<depth {
            let b0 = rawB.loadUnaligned(fromByteOffset: p * 64, as: SIMD8<Float>.self)
            let b1 = rawB.loadUnaligned(fromByteOffset: p * 64 + 32, as: SIMD8<Float>.self)
            let a0 = SIMD8<Float>(repeating: a[p * 4])
            let a1 = SIMD8<Float>(repeating: a[p * 4 + 1])
            let a2 = SIMD8<Float>(repeating: a[p * 4 + 2])
            let a3 = SIMD8<Float>(repeating: a[p * 4 + 3])
            c00 += a0 * b0
            c01 += a0 * b1
            c10 += a1 * b0
            c11 += a1 * b1
            c20 += a2 * b0
            c21 += a2 * b1
            c30 += a3 * b0
            c31 += a3 * b1
        }
        @inline(__always) func store(_ row: Int, _ low: SIMD8<Float>, _ high: SIMD8<Float>) {
            guard row < height else { return }
            let target = c + row * ldc
            if width == 16 {
                let raw = UnsafeMutableRawPointer(target)
                raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) + low, as: SIMD8<Float>.self)
                raw.storeBytes(
                    of: raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) + high, toByteOffset: 32,
                    as: SIMD8<Float>.self)
            } else {
                for j in 0..<width { target[j] += j < 8 ? low[j] : high[j - 8] }
            }
        }
        store(0, c00, c01)
        store(1, c10, c11)
        store(2, c20, c21)
        store(3, c30, c31)
    }
}

