//! List commands (the `list` group).
