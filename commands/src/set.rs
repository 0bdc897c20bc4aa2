//! Set commands (the `set` group).
