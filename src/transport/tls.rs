//! Which certificates an https target trusts.
//!
//! A `FROM scratch` image has no CA bundle, and rdy bundles none unless built
//! with the `webpki-roots` feature, so the trust store is explicit: `--ca-file`,
//! else the system bundle (`SSL_CERT_FILE` or the distributions' usual paths),
//! else — only with that feature — Mozilla's roots. With none of them an https
//! target is a configuration error, reported before any connection.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ureq::tls::{Certificate, ClientCert, PemItem, RootCerts, TlsConfig};

use super::error::TransportError;
use super::tls_error::describe;

/// CA bundle locations, in Go's `crypto/x509` order (root_linux.go).
const SYSTEM_BUNDLES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// How server certificates are verified.
#[derive(Clone)]
pub enum Trust {
    /// `--insecure`: no verification at all.
    Insecure,
    /// Verify against these roots.
    Roots(Arc<Vec<Certificate<'static>>>),
    /// Verify against the bundled Mozilla roots.
    #[cfg(feature = "webpki-roots")]
    WebPki,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::Insecure => f.write_str("Insecure"),
            Trust::Roots(roots) => write!(f, "Roots({})", roots.len()),
            #[cfg(feature = "webpki-roots")]
            Trust::WebPki => f.write_str("WebPki"),
        }
    }
}

/// A trust store could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// The file could not be read or holds no usable certificate.
    CaFile { path: PathBuf, reason: String },
    /// No `--ca-file`, no system bundle, no bundled roots.
    NoRoots,
    /// `--insecure` and `--ca-file` together: one of them would be ignored.
    InsecureWithCaFile,
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::CaFile { path, reason } => write!(f, "{}: {reason}", path.display()),
            TrustError::NoRoots => write!(
                f,
                "no CA certificates to verify https targets: none of SSL_CERT_FILE, {} \
                 exists; pass --ca-file FILE (RDY_CA_FILE), or --insecure",
                SYSTEM_BUNDLES[0]
            ),
            TrustError::InsecureWithCaFile => f.write_str(
                "--insecure and --ca-file cannot be used together: \
                 --insecure verifies nothing, so the CA file would be ignored; \
                 keep one (--insecure=false turns it off for one target)",
            ),
        }
    }
}

impl Trust {
    /// The trust store of one TLS target, whatever its protocol: `-k`,
    /// else `--ca-file`, else `otherwise` (the system bundle for https,
    /// none for PostgreSQL as libpq); both given is refused.
    pub fn choose(
        insecure: Option<bool>,
        ca: Option<&Trust>,
        otherwise: impl FnOnce() -> Result<Trust, TrustError>,
    ) -> Result<Trust, TrustError> {
        match (insecure, ca) {
            (Some(true), Some(_)) => Err(TrustError::InsecureWithCaFile),
            (Some(true), None) => Ok(Trust::Insecure),
            (_, Some(ca)) => Ok(ca.clone()),
            (_, None) => otherwise(),
        }
    }

    /// Roots from a PEM file given by the user; every certificate must parse.
    pub fn from_ca_file(path: &Path) -> Result<Trust, TrustError> {
        load_pem(path, Check::EveryCertificate).map(Trust::Roots)
    }

    /// The system bundle (`ssl_cert_file` first), loaded once per process.
    pub fn system(ssl_cert_file: Option<&str>) -> Result<Trust, TrustError> {
        static SYSTEM: OnceLock<Result<Trust, TrustError>> = OnceLock::new();
        SYSTEM
            .get_or_init(|| {
                let explicit = ssl_cert_file.filter(|p| !p.is_empty()).map(PathBuf::from);
                let found = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file());
                match explicit.as_deref().or(found) {
                    Some(path) => load_pem(path, Check::Lenient).map(Trust::Roots),
                    None => bundled_roots(),
                }
            })
            .clone()
    }

    /// The ureq TLS configuration for this trust store, presenting
    /// `client_cert` when the server asks for one (Kubernetes mTLS).
    pub fn tls_config(&self, client_cert: Option<ClientCert>) -> TlsConfig {
        let builder = TlsConfig::builder()
            .unversioned_rustls_crypto_provider(provider())
            .client_cert(client_cert);
        match self {
            Trust::Insecure => builder.disable_verification(true),
            Trust::Roots(roots) => builder.root_certs(RootCerts::Specific(roots.clone())),
            #[cfg(feature = "webpki-roots")]
            Trust::WebPki => builder.root_certs(RootCerts::WebPki),
        }
        .build()
    }
}

#[cfg(feature = "webpki-roots")]
fn bundled_roots() -> Result<Trust, TrustError> {
    Ok(Trust::WebPki)
}

#[cfg(not(feature = "webpki-roots"))]
fn bundled_roots() -> Result<Trust, TrustError> {
    Err(TrustError::NoRoots)
}

pub use super::crypto::provider;

/// How much of a bundle is checked when it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A file the user named: every certificate must be a usable anchor.
    EveryCertificate,
    /// The system bundle: rustls skips the odd unparsable root itself, and
    /// parsing ~140 roots twice would cost every `rdy check` a millisecond.
    Lenient,
}

fn load_pem(path: &Path, check: Check) -> Result<Arc<Vec<Certificate<'static>>>, TrustError> {
    let error = |reason: String| TrustError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| error(crate::os_error::words(&e).to_string()))?;
    let certs = match check {
        Check::EveryCertificate => parse_certificates(&pem),
        Check::Lenient => pem_certificates(&pem),
    };
    Ok(Arc::new(certs.map_err(error)?))
}

/// The certificates of a PEM bundle, unchecked.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(format!("not a PEM file: {e}")),
        }
    }
    if certs.is_empty() {
        return Err("no PEM certificates found".to_owned());
    }
    Ok(certs)
}

/// Every certificate of a PEM bundle, checked to be a usable trust anchor.
pub fn parse_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let certs = pem_certificates(pem)?;
    let ders = certs
        .iter()
        .map(|c| rustls::pki_types::CertificateDer::from(c.der()));
    let (added, ignored) = rustls::RootCertStore::empty().add_parsable_certificates(ders);
    match ignored {
        0 if added > 0 => Ok(certs),
        n => Err(format!("{n} certificate(s) could not be parsed")),
    }
}

/// A TLS client session over a socket, for the protocols rdy speaks itself.
pub type TlsStream<S> = rustls::StreamOwned<rustls::ClientConnection, S>;

impl Trust {
    /// A rustls client configuration with this trust store that offers the
    /// ALPN protocols `alpn` (`h2` for gRPC), for protocols rdy speaks over
    /// its own streams rather than through ureq.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions");
        let builder = match self {
            Trust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification)),
            Trust::Roots(roots) => {
                let mut store = rustls::RootCertStore::empty();
                store.add_parsable_certificates(
                    roots
                        .iter()
                        .map(|c| rustls::pki_types::CertificateDer::from(c.der())),
                );
                builder.with_root_certificates(store)
            }
            #[cfg(feature = "webpki-roots")]
            Trust::WebPki => builder.with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
        };
        let mut config = builder.with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// Starts a TLS session with `server_name` (a DNS name or IP literal: SNI
/// and the certificate check use it) over `io` and completes the handshake,
/// so a certificate problem is reported as such before any request. Every
/// TLS target but https (which ureq drives) connects here, over a
/// [`Bounded`](super::dial::Bounded) stream, so a server that trickles its
/// handshake cannot stretch an attempt.
pub fn connect<S: std::io::Read + std::io::Write>(
    config: Arc<rustls::ClientConfig>,
    server_name: &str,
    mut io: S,
) -> Result<TlsStream<S>, TransportError> {
    let name = rustls::pki_types::ServerName::try_from(server_name.to_owned()).map_err(|_| {
        TransportError::Tls(format!("{server_name} is not a valid TLS server name"))
    })?;
    let mut conn = rustls::ClientConnection::new(config, name)
        .map_err(|e| TransportError::Tls(describe(&e)))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut io).map_err(TransportError::from_io)?;
    }
    Ok(rustls::StreamOwned::new(conn, io))
}

/// `--insecure`: accepts any certificate. Handshake signatures are still
/// checked against the certificate presented, as ureq's own verifier skips
/// only the chain.
#[derive(Debug)]
struct NoVerification;

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
