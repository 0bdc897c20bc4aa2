//! The list value type and its encodings.
//!
//! The representation is being built by the collections work; this module
//! owns it, and `Value` only asks it for its encoding name and size.

/// a list value.
#[derive(Clone, Debug, Default)]
pub struct List {}

impl List {
    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        ""
    }

    /// Approximate heap bytes owned, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        0
    }
}
