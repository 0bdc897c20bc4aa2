//! Sorted set commands (the `sorted_set` group).
