//! Ferrum's persistence formats.
//!
//! - [`rdb`]: Redis's RDB snapshot format, version 11 (Redis 7.2), written
//!   and read; older encodings (RDB 9 and 10, ziplists, zipmaps, quicklist
//!   v1) are read too, so a `dump.rdb` from Redis 6 or 7.0 loads.
//! - [`lzf`]: the LZF compression RDB uses for long strings.
//! - [`encodings`]: listpack, ziplist, zipmap and intset blobs.
//! - [`crc`]: the CRC-64 (Jones polynomial) that ends an RDB file and a
//!   DUMP payload.

pub mod aof;
pub mod crc;
pub mod encodings;
pub mod lzf;
pub mod rdb;
