//! Ferrum's commands: the registry every command registers itself in, the
//! dispatcher that checks, locks and runs them, and one module per command
//! family. Handlers take a [`ctx::Ctx`] and the arguments and return a
//! [`resp::Reply`]; they never see a socket.

pub mod bgsave;
pub mod blocking;
pub mod client;
pub mod config;
pub mod counter;
pub mod ctx;
pub mod dispatch;
pub mod error;
pub mod meta;
pub mod multi;
pub mod notify;
mod observers;
pub mod parse;
pub mod persistence;
pub mod propagate;
pub mod pubsub;
pub mod registry;
pub mod spec;
pub mod state;
pub mod tracking;

mod connection;
mod hash;
mod introspection;
mod keys;
mod list;
mod server;
mod set;
mod sort;
mod string;
mod zset;

pub use client::{Client, ClientInfo};
pub use ctx::Ctx;
pub use dispatch::{dispatch, Outcome};
pub use registry::{registry, Registry};
pub use state::Server;

/// Makes sure the linker keeps this crate's command registrations: the
/// server calls it at start-up, which references the crate explicitly.
pub fn init() -> &'static Registry {
    registry()
}
