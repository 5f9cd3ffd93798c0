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

use rustls::crypto::CryptoProvider;
use ureq::tls::{Certificate, ClientCert, PemItem, RootCerts, TlsConfig};

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
        }
    }
}

impl Trust {
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

/// The ring crypto provider, shared by every TLS configuration.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

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
    let pem = std::fs::read(path).map_err(|e| error(e.to_string()))?;
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

/// The same trust store as a rustls client configuration, for probes that
/// speak TLS on a socket of their own (`rediss://`, PostgreSQL's
/// `sslmode`) rather than through ureq. ALPN is left empty.
pub fn rustls_config(trust: &Trust) -> Arc<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"));
    let builder = match trust {
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification)),
        Trust::Roots(roots) => {
            let mut store = rustls::RootCertStore::empty();
            store.add_parsable_certificates(
                roots
                    .iter()
                    .map(|c| rustls::pki_types::CertificateDer::from(c.der()).into_owned()),
            );
            builder.with_root_certificates(store)
        }
        #[cfg(feature = "webpki-roots")]
        Trust::WebPki => builder.with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    };
    Arc::new(builder.with_no_client_auth())
}

/// `--insecure`: accepts any certificate. Handshake signatures are still
/// checked with the provider's algorithms, so the peer holds the key of the
/// certificate it sent, whatever that certificate is.
#[derive(Debug)]
struct NoVerification;

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
