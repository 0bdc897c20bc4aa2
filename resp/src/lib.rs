// The crate documentation is the README, whose example runs as a doctest.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod double;
pub mod frame;
pub mod reply;
pub mod request;

pub use frame::{Frame, FrameDecoder, FrameError};
pub use reply::{ErrorText, Reply};
pub use request::{ParserConfig, ProtocolError, Request, RequestParser};

/// The protocol a connection speaks; chosen by `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}
