//! Runs every case of an Autobahn TestSuite `fuzzingserver` against this crate's client.
//!
//! ```text
//! cargo run --release --example autobahn_client -- [URL] [--no-deflate]
//! ```
//!
//! `URL` defaults to `ws://127.0.0.1:9001`. The client asks `/getCaseCount`, runs
//! `/runCase?case=N&agent=lowbit` for each case, echoing every message until the close, and
//! ends with `/updateReports?agent=lowbit`. The verdicts are in the server's reports.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use std::net::TcpStream;

use lowbit_websockets::handshake::{Handshake, HandshakeError};
use lowbit_websockets::{Conn, DeflateParams, OpCode, Session};

const AGENT: &str = "lowbit";
/// The largest message (the performance cases send up to 16 MiB).
const READ_LIMIT: usize = 64 << 20;
const CHUNK_SIZE: usize = 64 << 10;
/// No single read may stall longer than this.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let (args, no_deflate) = common::parse_args();
    let base = args.first().map_or("ws://127.0.0.1:9001", String::as_str);
    let base = base.trim_end_matches('/');
    let mut handshake = Handshake::new()
        .read_limit(READ_LIMIT)
        .chunk_size(CHUNK_SIZE);
    if !no_deflate {
        // Offer permessage-deflate (with `client_max_window_bits`, so the server may lower our
        // window) and refuse an answer the offer does not allow.
        handshake = handshake.deflate(DeflateParams::default());
    }

    let count = match case_count(&handshake, base) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("autobahn_client: cannot get the case count from {base}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("autobahn_client: {count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        let mut stats = common::Echoed::default();
        let outcome = open_case(&handshake, &url)
            .map_err(|e| e.to_string())
            .and_then(|mut session| {
                common::echo(&mut session, &mut stats).map_err(|e| e.to_string())
            });
        match outcome {
            Ok(()) => eprintln!(
                "case {case}/{count}: closed after {} messages",
                stats.messages
            ),
            // Many cases end in a failed connection on purpose; the report judges them.
            Err(e) => eprintln!("case {case}/{count}: {e}"),
        }
    }
    let url = format!("{base}/updateReports?agent={AGENT}");
    match open(&handshake, &url).map(|mut conn| common::echo(&mut conn, &mut Default::default())) {
        Ok(_) => {
            eprintln!("autobahn_client: reports updated");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("autobahn_client: cannot update the reports: {e}");
            ExitCode::FAILURE
        }
    }
}

fn open(handshake: &Handshake, url: &str) -> Result<Conn<TcpStream>, HandshakeError> {
    let conn = handshake.connect(url)?.conn;
    conn.get_ref().set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(conn)
}

/// A case's connection: plain, or with the permessage-deflate the server agreed to.
fn open_case(handshake: &Handshake, url: &str) -> Result<Session<TcpStream>, HandshakeError> {
    let opened = handshake.connect(url)?;
    opened.conn.get_ref().set_read_timeout(Some(READ_TIMEOUT))?;
    opened.session()
}

/// Reads the number of cases: one text message, then the server's close.
fn case_count(handshake: &Handshake, base: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let mut conn = open(handshake, &format!("{base}/getCaseCount"))?;
    let mut buf = Vec::new();
    let (op, payload) = conn.read_message(&mut buf)?;
    if op != OpCode::Text {
        return Err("the case count is not a text message".into());
    }
    let count = std::str::from_utf8(payload)?.trim().parse()?;
    // Wait for the server's close (answered by read_message).
    while conn.read_message(&mut buf)?.0 != OpCode::Close {}
    Ok(count)
}
