//! The emulator's server: one thread per connection, at most [`MAX_CONNECTIONS`] at once
//! (more are closed at once, never queued), keep-alive as HTTP/1.0 and 1.1 say, and a
//! handler that panics answered with 500 and its socket released.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::http::{Delivery, Handler, Response};
use super::read::{Conn, KeepAlive, Read, prepare};
use crate::sync::lock;

/// The most connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 512;

type Open = Arc<Mutex<HashMap<u64, TcpStream>>>;

/// A running server; dropping it stops it, closes its connections and frees the port.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Open,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(addr: SocketAddr, handler: Arc<dyn Handler>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let open: Open = Arc::default();
        let (stop2, open2) = (stop.clone(), open.clone());
        let acceptor = thread::Builder::new()
            .name("cybrid-emulator-accept".into())
            .spawn(move || accept(&listener, &stop2, &open2, &handler))?;
        Ok(Server {
            addr,
            stop,
            open,
            acceptor: Some(acceptor),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn accept(listener: &TcpListener, stop: &AtomicBool, open: &Open, handler: &Arc<dyn Handler>) {
    let next_id = AtomicU64::new(0);
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        handler.connection_accepted();
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut open = lock(open);
            let clone = stream.try_clone();
            match clone {
                // Over the limit (or out of handles): refused at once, never queued.
                Ok(clone) if open.len() < MAX_CONNECTIONS => {
                    open.insert(id, clone);
                }
                _ => {
                    let _ = stream.shutdown(Shutdown::Both);
                    continue;
                }
            }
        }
        let (handler, open2) = (handler.clone(), open.clone());
        let spawned = thread::Builder::new()
            .name("cybrid-emulator-conn".into())
            .spawn(move || {
                // Released however the thread ends, a handler's panic included.
                let _release = Release(open2, id);
                serve(stream, &*handler);
            });
        if spawned.is_err() {
            lock(open).remove(&id);
        }
    }
}

/// Forgets (and so closes) a connection when its thread ends.
struct Release(Open, u64);

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(stream) = lock(&self.0).remove(&self.1) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag; it then drops the listener, freeing the port.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, stream) in lock(&self.open).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Serves one connection until it closes, a request says so, or a request is refused.
fn serve(stream: TcpStream, handler: &dyn Handler) {
    if prepare(&stream).is_err() {
        return;
    }
    let mut conn = Conn::new(stream);
    loop {
        let (request, keep_alive) = match conn.read_request() {
            Read::Request(request, keep_alive) => (request, keep_alive),
            Read::Closed => return,
            Read::Refuse(status, why) => {
                let response = Response::error(status, "bad_request", why);
                let _ = write(&mut conn.stream, &response.to_bytes(true, false));
                return;
            }
        };
        let close = keep_alive == KeepAlive::No;
        let head_only = request.method == "HEAD";
        // A handler that panics is answered with a 500, and the connection closed.
        let delivery =
            catch_unwind(AssertUnwindSafe(|| handler.handle(request))).unwrap_or_else(|_| {
                Delivery::Failed(Response::error(
                    500,
                    "internal_error",
                    "the emulator failed on this request",
                ))
            });
        match delivery {
            Delivery::Failed(response) => {
                let _ = write(&mut conn.stream, &response.to_bytes(true, head_only));
                return;
            }
            Delivery::Whole(response) => {
                if write(&mut conn.stream, &response.to_bytes(close, head_only)).is_err() || close {
                    let _ = conn.stream.shutdown(Shutdown::Write);
                    return;
                }
            }
            Delivery::Drop => return,
            Delivery::Truncated(response) => {
                let mut bytes = response.head(true).into_bytes();
                bytes.extend_from_slice(&response.body[..response.body.len() / 2]);
                let _ = write(&mut conn.stream, &bytes);
                return;
            }
        }
    }
}

fn write(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::http::Request;
    use std::io::Read;

    struct Panics;

    impl Handler for Panics {
        fn handle(&self, _: Request) -> Delivery {
            panic!("a handler bug");
        }
        fn connection_accepted(&self) {}
    }

    #[test]
    fn a_panicking_handler_answers_500_and_releases_the_socket() {
        let server =
            Server::start(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(Panics)).unwrap();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream
            .write_all(b"GET /api/identity_records HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !lock(&server.open).is_empty() && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(lock(&server.open).is_empty(), "the socket was not released");
    }
}
