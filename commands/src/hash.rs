//! Hash commands (the `hash` group).
