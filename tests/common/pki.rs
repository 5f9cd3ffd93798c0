//! A throwaway certificate authority and server certificates, generated per
//! test with rcgen.

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA, a server certificate it signed, and the CA written to a file.
pub struct Pki {
    /// The CA certificate in PEM.
    pub ca_pem: String,
    /// Where the CA PEM was written.
    pub ca_file: PathBuf,
    /// A server configuration presenting the signed certificate.
    pub server: Arc<rustls::ServerConfig>,
    /// The server certificate and its key in PEM files, for servers that
    /// are not rustls (the Python gRPC server).
    pub server_files: (PathBuf, PathBuf),
    /// The server certificate and its key in PEM, for servers that read
    /// files (PostgreSQL, Redis).
    pub cert_pem: String,
    pub key_pem: String,
}

/// A distinct name per CA, so two test CAs never look like one issuer.
fn next_ca_number() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Makes a CA and a server certificate for `names` (DNS names or IPs).
pub fn pki(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("rdy test CA {}", next_ca_number()),
    );
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf_params = CertificateParams::new(names).expect("leaf params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");

    let dir = super::temp_dir("pki");
    let ca_file = super::write_file(&dir, "ca.pem", ca_cert.pem().as_bytes());
    let server_files = (
        super::write_file(&dir, "server.pem", leaf.pem().as_bytes()),
        super::write_file(&dir, "server-key.pem", leaf_key.serialize_pem().as_bytes()),
    );
    finish(ca_cert.pem(), ca_file, server_files, leaf, leaf_key)
}

/// A self-signed CA certificate for `names` that its server presents as
/// its own, and that certificate as the CA to trust: a verifier must
/// refuse it (a CA is not an end entity).
pub fn ca_as_server(names: &[&str]) -> Pki {
    let key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("cert");
    let dir = super::temp_dir("ca-as-server");
    let ca_file = super::write_file(&dir, "ca.pem", cert.pem().as_bytes());
    let server_files = (
        ca_file.clone(),
        super::write_file(&dir, "key.pem", key.serialize_pem().as_bytes()),
    );
    finish(cert.pem(), ca_file, server_files, cert, key)
}

/// The [`Pki`] of a server presenting `leaf` with `leaf_key`.
fn finish(
    ca_pem: String,
    ca_file: PathBuf,
    server_files: (PathBuf, PathBuf),
    leaf: rcgen::Certificate,
    leaf_key: KeyPair,
) -> Pki {
    let (cert_pem, key_pem) = (leaf.pem(), leaf_key.serialize_pem());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server cert");
    Pki {
        ca_pem,
        ca_file,
        server: Arc::new(server),
        server_files,
        cert_pem,
        key_pem,
    }
}
