//! What the loopback load tests share: the real server started in-process on a store file, a
//! minimal blocking HTTP/1.1 exchange on a kept-alive connection (so the client costs the server
//! as little CPU as possible on a small machine), and percentiles of latencies.

// Each load test uses a part of this module; what one leaves unused is not dead for the other.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;
use trailmap_app::App;
use trailmap_server::{ServerState, Writer, router};

/// A server of our own; `stop` shuts it down and hands back the app (everything committed).
pub struct LocalServer {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<App>,
}

impl LocalServer {
    /// Starts the router and the writer on `app` (whose store is the file `db`) on a free
    /// loopback port, as `trailmap serve` runs them.
    pub fn start(app: App, db: PathBuf) -> LocalServer {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            let (writer, writer_thread) = Writer::start(app);
            let state = ServerState::new(writer, db);
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
                let _ = addr_tx.send(listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
                let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
                let _ = axum::serve(listener, service)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
            drop(runtime);
            writer_thread.join().unwrap_or_else(|_| panic!("the writer thread panicked"))
        });
        let addr = addr_rx.recv().unwrap_or_else(|e| panic!("the server did not start: {e}"));
        LocalServer { addr, stop, thread }
    }

    pub fn stop(self) -> App {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_else(|_| panic!("the server thread panicked"))
    }
}

/// A kept-alive connection with Nagle off.
pub fn connect(addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    Ok(BufReader::new(s))
}

/// Sends one request on a kept-alive connection and reads the answer: (status, body).
pub fn exchange(stream: &mut BufReader<TcpStream>, head: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    stream.get_mut().write_all(head.as_bytes())?;
    stream.get_mut().write_all(body)?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut answer = vec![0; length];
    stream.read_exact(&mut answer)?;
    Ok((status, answer))
}

/// The nearest-rank percentile `p` (0-100) of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds of a duration, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Removes a store file and its WAL companions.
pub fn remove_store(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
