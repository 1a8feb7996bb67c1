//! Real receivers for the tests of what Trailmap sends: an SMTP sink (Python's `aiosmtpd`, which
//! `.ci/run` installs, writing each message to a folder) and a webhook receiver (a small HTTP
//! server on 127.0.0.1 that records each request and answers with the status asked for). Both
//! are ready when they are returned, and both are told apart from the test by channels and
//! files, never by sleeping.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The sink's script, beside this crate.
pub fn smtp_sink_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/smtp_sink.py")
}

/// A running SMTP sink on 127.0.0.1; stopped when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    pub port: u16,
    pub folder: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts the sink writing into `folder`; an error says how to install aiosmtpd when Python
    /// lacks it.
    pub fn start(folder: &Path) -> Result<SmtpSink, String> {
        let check = Command::new("python3").args(["-c", "import aiosmtpd"]).output().map_err(|e| format!("python3 cannot be run: {e}"))?;
        if !check.status.success() {
            return Err("the SMTP sink needs Python's aiosmtpd: `python3 -m pip install aiosmtpd` (.ci/run installs it)".into());
        }
        let port = free_port()?;
        let mut child = Command::new("python3")
            .arg(smtp_sink_script())
            .arg(port.to_string())
            .arg(folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("the SMTP sink did not start: {e}"))?;
        let stdout = child.stdout.take().ok_or("the SMTP sink has no output")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("the SMTP sink's output: {e}"))?;
        if line.trim() != "ready" {
            let _ = child.kill();
            return Err(format!("the SMTP sink did not get ready: {line:?}"));
        }
        Ok(SmtpSink { port, folder: folder.to_path_buf(), child })
    }

    /// `smtp://127.0.0.1:PORT?tls=none`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none&from=reports%40trailmap.test", self.port)
    }

    /// The messages received so far, in order, as the sink read them: `from`, `to`, `subject`,
    /// `text` and `html` (decoded), `attachments` (each `name`, `content_type`, `bytes`, `path`).
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
            .collect();
        found.sort();
        found.into_iter().filter_map(|(_, p)| serde_json::from_slice(&std::fs::read(p).ok()?).ok()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free at the time of asking, on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// One request the webhook receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on 127.0.0.1 answering each request with the next status of its script
/// (then 200), and handing each request to the test.
#[derive(Debug)]
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    requests: Receiver<ReceivedRequest>,
}

impl WebhookReceiver {
    /// Starts the receiver; `statuses` are answered in turn (500 to make a delivery fail), then 200.
    pub fn start(statuses: &[u16]) -> Result<WebhookReceiver, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("the webhook receiver cannot listen: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (sender, requests) = channel();
        let statuses = Arc::new(Mutex::new(statuses.to_vec()));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let status = statuses.lock().ok().and_then(|mut s| (!s.is_empty()).then(|| s.remove(0))).unwrap_or(200);
                if serve(stream, status, &sender).is_err() {
                    continue;
                }
            }
        });
        Ok(WebhookReceiver { addr, requests })
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next request received, waiting at most `wait` for it.
    pub fn next(&self, wait: Duration) -> Option<ReceivedRequest> {
        self.requests.recv_timeout(wait).ok()
    }

    /// The requests received so far.
    pub fn drain(&self) -> Vec<ReceivedRequest> {
        self.requests.try_iter().collect()
    }
}

fn serve(stream: TcpStream, status: u16, sender: &Sender<ReceivedRequest>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    // Handed over before answering, so a sender that got its answer finds the request recorded.
    let _ = sender.send(ReceivedRequest { method, path, headers, body });
    let mut stream = stream;
    write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    stream.flush()
}
