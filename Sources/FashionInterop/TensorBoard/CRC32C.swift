/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven a byte at a time: what TFRecord framing
/// (TensorBoard's event files) checks each length and each record with, masked by ``masked(_:)``.
public enum CRC32C {
    /// The remainder of every byte value, computed once.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The checksum of `bytes` (`checksum("123456789".utf8) == 0xE306_9283`).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked form of a checksum: rotated right by 15 bits plus a constant, so that a checksum of data
    /// that itself holds checksums does not degenerate.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
