//! COMMAND and its subcommands, answered from the registry.
