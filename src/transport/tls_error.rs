//! A failed TLS handshake in the words of a log line, for the TLS path
//! (`tls.rs`) and for errors that reach the transport error type from ureq.

/// A failed handshake in the words of a log line. rustls's own text is
/// its Rust names (`invalid peer certificate: UnknownIssuer`,
/// `other error: CaUsedAsEndEntity`); these are the cases users meet, each
/// with what to do. Anything else keeps rustls's text.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error};
    let text = match e {
        Error::InvalidCertificate(cert) => match cert {
            Cert::UnknownIssuer => {
                "the server's certificate is not signed by a CA rdy trusts \
                 (give the CA that signed it with --ca-file)"
            }
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                return not_for_name(cert);
            }
            Cert::Expired | Cert::ExpiredContext { .. } => "the server's certificate has expired",
            Cert::NotValidYet | Cert::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (is the clock right?)"
            }
            Cert::Revoked => "the server's certificate has been revoked",
            Cert::BadEncoding => "the server's certificate cannot be parsed",
            Cert::BadSignature => "the signature on the server's certificate is wrong",
            Cert::InvalidPurpose | Cert::InvalidPurposeContext { .. } => {
                "the server's certificate is not meant for TLS servers (extended key usage)"
            }
            Cert::Other(other) => return webpki_error(&other.to_string()),
            _ => return format!("the server's certificate is not accepted: {cert}"),
        },
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } => {
            "the server did not answer with TLS (a plain http:// port?)"
        }
        Error::NoCertificatesPresented => "the server sent no certificate",
        Error::PeerIncompatible(_) => {
            "the server offers no TLS version or cipher suite rdy supports (TLS 1.2 and 1.3)"
        }
        Error::AlertReceived(alert) => match alert {
            Alert::HandshakeFailure | Alert::InsufficientSecurity => {
                "the server refused the handshake: no TLS parameters in common"
            }
            Alert::ProtocolVersion => "the server refused the TLS version (rdy speaks 1.2 and 1.3)",
            Alert::UnrecognisedName => "the server does not serve this host name (SNI)",
            Alert::CertificateRequired | Alert::NoCertificate | Alert::BadCertificate => {
                "the server wants a client certificate"
            }
            Alert::AccessDenied => "the server denied access",
            _ => {
                return format!(
                    "the server ended the handshake with alert {}",
                    u8::from(*alert)
                );
            }
        },
        _ => return e.to_string(),
    };
    text.to_owned()
}

/// `NotValidForName`, with the names when rustls gives them.
fn not_for_name(cert: &rustls::CertificateError) -> String {
    match cert {
        rustls::CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "the server's certificate is not valid for {} (it names {})",
            expected.to_str(),
            match presented.is_empty() {
                true => "no host".to_owned(),
                false => presented
                    .iter()
                    .map(|n| unquote(n))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        ),
        _ => "the server's certificate is not valid for this host name".to_owned(),
    }
}

/// `DnsName("db.example")`, as rustls lists the names a certificate
/// presents, to `db.example`.
fn unquote(name: &str) -> &str {
    match (name.find('"'), name.rfind('"')) {
        (Some(start), Some(end)) if start < end => &name[start + 1..end],
        _ => name,
    }
}

/// rustls-webpki's path-building errors, which reach rustls as `Other`
/// and print as their Rust names.
fn webpki_error(name: &str) -> String {
    let text = match name {
        "CaUsedAsEndEntity" => {
            "the server's certificate is a CA certificate, not a server certificate"
        }
        "EndEntityUsedAsCa" => "a server certificate in the chain is used as a CA",
        "PathLenConstraintViolated" => "the certificate chain is longer than its CA allows",
        "NameConstraintViolation" => "the server's name is outside what its CA may certify",
        "RequiredEkuNotFound" => {
            "the server's certificate is not meant for TLS servers (extended key usage)"
        }
        "MaximumPathDepthExceeded" | "MaximumPathBuildCallsExceeded" => {
            "the certificate chain is too long to verify"
        }
        _ => return format!("the server's certificate is not accepted: {name}"),
    };
    text.to_owned()
}
