//! Integration tests of the permessage-deflate decorator: negotiation to wire, both roles.
#![cfg(feature = "deflate")]

#[path = "../support/mod.rs"]
mod support;

mod chaos;
mod handshake;
mod roundtrip;
mod violations;

use lowbit_websockets::{
    Conn, ContextTakeover, Deflate, DeflateParams, Error, OpCode, WindowBits, negotiate, offer,
    verify_response,
};
use support::{End, duplex};

/// The read limit of both ends.
pub const LIMIT: usize = 32 << 20;

/// A client and a server that negotiated permessage-deflate through our own handshake values.
pub fn pair(
    client: &DeflateParams,
    server: &DeflateParams,
    chunk: usize,
) -> (Deflate<End>, Deflate<End>) {
    let (a, b) = duplex();
    let (s_agreed, response) = negotiate([offer(client)], server).expect("server declined");
    let c_agreed = verify_response(client, [&response]).unwrap().unwrap();
    let c = Deflate::new(Conn::client(a, LIMIT, chunk).unwrap(), &c_agreed, client).unwrap();
    let s = Deflate::new(Conn::server(b, LIMIT, chunk).unwrap(), &s_agreed, server).unwrap();
    (c, s)
}

/// Parameter sets worth crossing: takeover both ways, and small windows.
pub fn param_sets() -> Vec<DeflateParams> {
    let w = |b| WindowBits::new(b).unwrap();
    vec![
        DeflateParams::default(),
        DeflateParams::no_context_takeover(),
        DeflateParams::low_memory(),
        DeflateParams::default()
            .outgoing_context_takeover(ContextTakeover::Reset)
            .incoming_max_window_bits(w(8)),
        DeflateParams::default()
            .incoming_context_takeover(ContextTakeover::Reset)
            .outgoing_max_window_bits(w(9)),
    ]
}

/// Reads one message, which must already be on the wire.
pub fn read(peer: &mut Deflate<End>, buf: &mut Vec<u8>) -> Result<(OpCode, Vec<u8>), Error> {
    let (op, payload) = peer.read_message(buf)?;
    Ok((op, payload.to_vec()))
}
