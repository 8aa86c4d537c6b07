//! Listening sockets that can be re-bound at once after a restart.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Binds with SO_REUSEADDR, so a restarted device or controller gets its port
/// back while old connections linger in TIME_WAIT.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
