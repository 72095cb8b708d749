//! A WebSocket echo server: a thread per connection, echoing text and binary messages.
//!
//! ```text
//! cargo run --release --example echo_server -- [ADDR] [--no-deflate]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:9001`. The read limit is 64 MiB (the Autobahn TestSuite's
//! performance cases send messages of up to 16 MiB). One line per connection goes to stderr.
//! Ctrl-C stops accepting and exits.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lowbit_websockets::DeflateParams;
use lowbit_websockets::handshake::{Handshake, Opened};

/// The largest message echoed.
const READ_LIMIT: usize = 64 << 20;
/// Buffers per connection are about twice this.
const CHUNK_SIZE: usize = 64 << 10;
/// How long a client may take to send its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let (args, no_deflate) = common::parse_args();
    let addr = args.first().map_or("127.0.0.1:9001", String::as_str);
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("echo_server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().ok();
    let stopping = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stopping);
    let wake = local;
    let handler = ctrlc::set_handler(move || {
        flag.store(true, Ordering::SeqCst);
        // Wake the blocked accept so the main loop sees the flag.
        if let Some(addr) = wake {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
    });
    if let Err(e) = handler {
        eprintln!("echo_server: cannot install the ctrl-c handler: {e}");
    }
    let deflate = if no_deflate { "off" } else { "on" };
    match local {
        Some(a) => eprintln!("echo_server: listening on ws://{a} (deflate: {deflate})"),
        None => eprintln!("echo_server: listening on {addr}"),
    }

    let mut handshake = Handshake::new()
        .read_limit(READ_LIMIT)
        .chunk_size(CHUNK_SIZE);
    if !no_deflate {
        // Accept the first permessage-deflate offer we can honour, stating every parameter.
        handshake = handshake.deflate(DeflateParams::default());
    }
    let handshake = Arc::new(handshake);
    for tcp in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        match tcp {
            Ok(tcp) => {
                let handshake = Arc::clone(&handshake);
                thread::spawn(move || serve(&handshake, tcp));
            }
            Err(e) => eprintln!("echo_server: accept failed: {e}"),
        }
    }
    eprintln!("echo_server: shutting down");
    ExitCode::SUCCESS
}

/// Closes the TCP stream gracefully: the server closes first (RFC 6455 §7.1.1), but closing a
/// socket with unread input makes the kernel send RST, which can destroy our close frame before
/// the peer reads it. So: send FIN, drain what the peer still sends for a moment, then drop.
fn linger(tcp: &mut TcpStream) {
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match std::io::Read::read(tcp, &mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Runs one connection and logs one line about it.
fn serve(handshake: &Handshake, tcp: TcpStream) {
    let start = Instant::now();
    let peer = tcp
        .peer_addr()
        .map_or_else(|_| "unknown".to_owned(), |a: SocketAddr| a.to_string());
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
    let mut stats = common::Echoed::default();
    let outcome = match handshake.accept(tcp).and_then(Opened::session) {
        Ok(mut session) => {
            let _ = session.conn().get_ref().set_read_timeout(None);
            let outcome = common::echo(&mut session, &mut stats).map_err(|e| e.to_string());
            linger(session.conn_mut().get_mut());
            outcome
        }
        Err(e) => Err(e.to_string()),
    };
    let outcome = match outcome {
        Ok(()) => "closed".to_owned(),
        Err(e) => format!("failed: {e}"),
    };
    eprintln!(
        "{peer}: {outcome}; {} messages, {} bytes echoed in {:.3} s",
        stats.messages,
        stats.bytes,
        start.elapsed().as_secs_f64()
    );
}
