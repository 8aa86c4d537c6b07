//! Listening sockets that can be re-bound at once after a restart, and the
//! causes of a connection error.

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

/// What lies under a connection error, as ": cause: cause…" ("transport
/// error" alone says little; the TLS reason — an unknown issuer, a wrong
/// name — is in its sources). Causes an error already repeats are skipped.
pub fn causes(e: &dyn std::error::Error) -> String {
    let top = e.to_string();
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) && !top.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_are_listed_once() {
        let e = E(
            "transport error",
            Some(Box::new(E(
                "invalid peer certificate: BadSignature",
                Some(Box::new(E("invalid peer certificate: BadSignature", None))),
            ))),
        );
        assert_eq!(
            super::causes(&e),
            ": invalid peer certificate: BadSignature"
        );
    }
}
