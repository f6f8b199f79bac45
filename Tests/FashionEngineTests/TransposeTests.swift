import CKernels
import Testing

@Suite struct TransposeTests {
    /// Every value lands in its place, for whole 16 × 16 blocks and for the partial ones at either edge, and
    /// nothing outside the transposed matrix (the padding of dst's rows) is written.
    @Test(arguments: [1, 5, 16, 17, 33])
    func transposesWholeAndPartialBlocksWithinTheirRows(rows: Int) {
        for columns in [1, 7, 16, 20, 196] {
            let (ldSource, ldDestination) = (columns + 3, rows + 2)
            let source = (0..<(rows * ldSource)).map { Float($0) }
            var destination = [Float](repeating: -1, count: columns * ldDestination)
            fl_transpose(source, rows, columns, ldSource, &destination, ldDestination)
            for j in 0..<columns {
                for i in 0..<ldDestination {
                    let expected = i < rows ? source[i * ldSource + j] : -1
                    #expect(destination[j * ldDestination + i] == expected, "\(rows) × \(columns): [\(j), \(i)]")
                }
            }
        }
    }
}
