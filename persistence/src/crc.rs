//! CRC-64 with the Jones polynomial (reflected, initial value 0), the checksum
//! Redis puts at the end of RDB files and DUMP payloads. The `crc64` crate
//! implements exactly that variant; the test pins Redis's own test vector.

/// Continues a checksum `crc` over `data`.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    crc64::crc64(crc, data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_redis_test_vector() {
        assert_eq!(super::crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        // Incremental use gives the same result as one pass.
        let one = super::crc64(0, b"hello, world");
        let two = super::crc64(super::crc64(0, b"hello, "), b"world");
        assert_eq!(one, two);
    }
}
