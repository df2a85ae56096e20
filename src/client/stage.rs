//! Where a transport failure happened. A failure while resolving the name, connecting,
//! passing a proxy or shaking hands with TLS happened before any byte of the request left
//! this machine: the request had no effect, and may be sent again (unless it would fail the
//! same way, as a refused certificate does). Anything later may have reached the server.
//!
//! ureq reports most of these as `Error::Io`, whatever the stage; so the crate's resolver
//! and connector mark the failures that come out of them ([`before_request`]), and
//! [`describe`] tells the stages apart from the mark and the error's type.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use ureq::unversioned::transport::{ConnectionDetails, Connector, DefaultConnector};

use crate::error::TransportErrorKind;

/// A failure of the resolver or the connector chain: the request never left.
#[derive(Debug)]
pub(crate) struct BeforeRequest(pub(crate) ureq::Error);

impl fmt::Display for BeforeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed before the request was sent")
    }
}

impl StdError for BeforeRequest {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

/// Marks `e` as having happened before the request was sent.
pub(crate) fn before_request(e: ureq::Error) -> ureq::Error {
    match e {
        // Already marked (a proxy's own connection inside the chain).
        ureq::Error::Other(inner) if inner.is::<BeforeRequest>() => ureq::Error::Other(inner),
        other => ureq::Error::Other(Box::new(BeforeRequest(other))),
    }
}

/// ureq's default connector chain (TCP, proxies, TLS), with its failures marked.
#[derive(Debug, Default)]
pub(crate) struct MarkingConnector(DefaultConnector);

impl Connector<()> for MarkingConnector {
    type Out = <DefaultConnector as Connector<()>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0.connect(details, chained).map_err(before_request)
    }
}

/// How a failure that happened before sending is described and treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsent {
    pub(crate) kind: TransportErrorKind,
    /// Our words, never the source's (the source is the error's `source()`).
    pub(crate) message: String,
    /// Whether trying again could help (a certificate is refused the same way every time).
    pub(crate) may_heal: bool,
}

const CA_REMEDY: &str = "if a TLS-intercepting proxy stands between you and Cybrid, trust its \
     root certificate with ClientBuilder::root_certificates_pem or CYBRID_CA_BUNDLE";

/// Describes a failure that happened before the request was sent.
pub(crate) fn describe(e: &ureq::Error) -> Unsent {
    let unsent = |kind, message: &str, may_heal| Unsent {
        kind,
        message: message.to_owned(),
        may_heal,
    };
    match e {
        ureq::Error::HostNotFound => unsent(
            TransportErrorKind::Resolve,
            "the host name did not resolve",
            true,
        ),
        ureq::Error::ConnectProxyFailed(_) => unsent(
            TransportErrorKind::Proxy,
            "the proxy refused to open a tunnel (CONNECT) to the host",
            true,
        ),
        ureq::Error::Timeout(_) => unsent(
            TransportErrorKind::Timeout,
            "timed out before the request was sent",
            true,
        ),
        ureq::Error::Rustls(tls) => tls_failure(tls),
        ureq::Error::Tls(_) => unsent(TransportErrorKind::Tls, "the TLS handshake failed", true),
        ureq::Error::Io(io) => match io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => tls_failure(tls),
            None => io_failure(io),
        },
        _ => unsent(TransportErrorKind::Connect, "could not connect", true),
    }
}

fn io_failure(io: &io::Error) -> Unsent {
    use io::ErrorKind as Io;
    let (kind, message) = match io.kind() {
        Io::ConnectionRefused => (TransportErrorKind::Connect, "the connection was refused"),
        Io::HostUnreachable | Io::NetworkUnreachable | Io::NetworkDown | Io::AddrNotAvailable => {
            (TransportErrorKind::Connect, "the host could not be reached")
        }
        Io::TimedOut | Io::WouldBlock => (
            TransportErrorKind::Timeout,
            "timed out before the request was sent",
        ),
        // getaddrinfo's failures arrive as uncategorised I/O errors from the resolver.
        _ if io.to_string().contains("lookup address") => {
            (TransportErrorKind::Resolve, "the host name did not resolve")
        }
        _ => (TransportErrorKind::Connect, "could not connect"),
    };
    Unsent {
        kind,
        message: message.to_owned(),
        may_heal: true,
    }
}

fn tls_failure(tls: &rustls::Error) -> Unsent {
    use rustls::CertificateError as Cert;
    let certificate = |why: &str| Unsent {
        kind: TransportErrorKind::Tls,
        message: format!("the TLS handshake failed: the server's certificate {why}; {CA_REMEDY}"),
        may_heal: false,
    };
    match tls {
        rustls::Error::InvalidCertificate(Cert::UnknownIssuer) => {
            certificate("was issued by an authority this client does not trust (unknown issuer)")
        }
        rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        ) => certificate("is not valid for this host name (name mismatch)"),
        rustls::Error::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. }) => {
            certificate("has expired")
        }
        rustls::Error::InvalidCertificate(_) => certificate("was refused"),
        _ => Unsent {
            kind: TransportErrorKind::Tls,
            message: "the TLS handshake failed".to_owned(),
            may_heal: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_named_and_never_heal() {
        let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, untrusted));
        let d = describe(&io);
        assert_eq!(d.kind, TransportErrorKind::Tls);
        assert!(!d.may_heal);
        assert!(
            d.message.contains("certificate") && d.message.contains("unknown issuer"),
            "{}",
            d.message
        );
        assert!(
            d.message.contains("root_certificates_pem") && d.message.contains("CYBRID_CA_BUNDLE")
        );
        let expired = ureq::Error::Rustls(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Expired,
        ));
        assert!(describe(&expired).message.contains("has expired"));
    }

    #[test]
    fn marks_are_not_doubled_and_stages_are_told_apart() {
        let marked = before_request(before_request(ureq::Error::HostNotFound));
        let ureq::Error::Other(inner) = &marked else {
            panic!("{marked:?}")
        };
        let BeforeRequest(e) = inner.downcast_ref::<BeforeRequest>().unwrap();
        assert!(matches!(e, ureq::Error::HostNotFound));
        let lookup =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(
            describe(&ureq::Error::Io(lookup)).kind,
            TransportErrorKind::Resolve
        );
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            describe(&ureq::Error::Io(refused)).kind,
            TransportErrorKind::Connect
        );
        assert_eq!(
            describe(&ureq::Error::ConnectProxyFailed("403".into())).kind,
            TransportErrorKind::Proxy
        );
    }
}
