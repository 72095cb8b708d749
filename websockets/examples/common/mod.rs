//! Code shared by the examples: the echo loop, written once over the `Peer` trait.

use lowbit_websockets::{Error, OpCode, Peer};

/// What one echoed connection carried.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Echoed {
    /// Text and binary messages echoed.
    pub(crate) messages: u64,
    /// Their payload bytes.
    pub(crate) bytes: u64,
}

/// Echoes every text and binary message until the peer's close (already answered by
/// `read_message`). Pings are answered inside `read_message`. Works the same over a plain
/// connection, a TLS one, or (later) the deflate decorator.
///
/// # Errors
/// The first error of the connection; it has then failed (a protocol error has already sent
/// its close code).
pub(crate) fn echo<P: Peer>(peer: &mut P, stats: &mut Echoed) -> Result<(), Error> {
    let mut buf = Vec::new();
    loop {
        let (op, payload) = peer.read_message(&mut buf)?;
        match op {
            OpCode::Text | OpCode::Binary => {
                stats.messages += 1;
                stats.bytes += payload.len() as u64;
                peer.write_message(op, payload)?;
                peer.flush()?;
            }
            OpCode::Close => return Ok(()),
            // read_message returns only data messages and close; answer nothing else.
            OpCode::Continuation | OpCode::Ping | OpCode::Pong => {}
        }
    }
}

/// Splits the command line into positional arguments and whether `--no-deflate` was given.
/// Deflate is not built yet, so the flag is accepted and has no effect for now.
pub(crate) fn parse_args() -> (Vec<String>, bool) {
    let mut positional = Vec::new();
    let mut no_deflate = false;
    for arg in std::env::args().skip(1) {
        if arg == "--no-deflate" {
            no_deflate = true;
        } else {
            positional.push(arg);
        }
    }
    (positional, no_deflate)
}
