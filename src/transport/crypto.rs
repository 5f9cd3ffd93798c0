//! The TLS crypto provider: ring, cut down to what rdy offers.
//!
//! rustls's `ring::default_provider()` names every suite, group and
//! signature algorithm ring has, so the linker keeps all of them. rdy talks
//! to servers inside a cluster, which all speak AES-GCM and P-256 or X25519,
//! so it offers exactly that and nothing the link would otherwise pull in:
//!
//! - TLS 1.3: `TLS_AES_128_GCM_SHA256` (the suite RFC 8446 §9.1 makes
//!   mandatory) and `TLS_AES_256_GCM_SHA384`;
//! - TLS 1.2: ECDHE with ECDSA or RSA and AES-GCM (RFC 5289), the suites
//!   every current server configuration keeps;
//! - key exchange X25519, P-256 and P-384;
//! - certificates signed with ECDSA (P-256, P-384) or RSA (PKCS#1 v1.5 and
//!   PSS, 2048–8192 bits); client keys (Kubernetes mTLS) RSA or ECDSA.
//!
//! Left out: ChaCha20-Poly1305 (a server that offers it also offers
//! AES-GCM) and Ed25519 certificates and client keys, which the Web PKI does
//! not issue and Kubernetes does not generate. Together about 70 KB of code.

use std::sync::{Arc, OnceLock};

use rustls::SignatureScheme;
use rustls::crypto::ring::{cipher_suite, kx_group, sign};
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use webpki::ring as alg;

/// The provider every TLS configuration of rdy shares.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            Arc::new(CryptoProvider {
                cipher_suites: vec![
                    cipher_suite::TLS13_AES_128_GCM_SHA256,
                    cipher_suite::TLS13_AES_256_GCM_SHA384,
                    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                    cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                    cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                ],
                kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
                signature_verification_algorithms: SIGNATURES,
                secure_random: &Kernel,
                key_provider: &Kernel,
            })
        })
        .clone()
}

/// The certificate signatures rdy verifies, and which TLS signature scheme
/// may use which (for TLS 1.2 the curve is not fixed by the scheme).
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// Randomness from the kernel (`getrandom(2)`), and client keys parsed as
/// RSA or ECDSA.
#[derive(Debug)]
struct Kernel;

impl SecureRandom for Kernel {
    fn fill(&self, mut buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        // getrandom(2) returns at most 32 MiB per call and may be
        // interrupted by a signal; loop until the buffer is full. Each
        // round fills at least one byte, is interrupted, or fails.
        while !buf.is_empty() {
            // SAFETY: the pointer and length describe `buf`, which is
            // writable for its whole length.
            let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
            match usize::try_from(n) {
                Ok(filled) if filled > 0 => {
                    let rest = std::mem::take(&mut buf);
                    buf = rest.get_mut(filled..).unwrap_or_default();
                }
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => return Err(GetRandomFailed),
            }
        }
        Ok(())
    }
}

impl KeyProvider for Kernel {
    fn load_private_key(
        &self,
        key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        if let Ok(rsa) = sign::RsaSigningKey::new(&key) {
            return Ok(Arc::new(rsa));
        }
        sign::any_ecdsa_type(&key).map_err(|_| {
            rustls::Error::General("the client key is neither RSA nor ECDSA (P-256, P-384)".into())
        })
    }
}
