//! Write keys: 32 random bytes shown once as hex, stored only as their SHA-256, and read from a
//! request the two ways Segment's clients send them (HTTP Basic auth with the key as the user name,
//! or `writeKey` in the body).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new write key: 32 bytes in lower-case hex, from rand's thread generator (a cryptographically
/// secure generator seeded by the operating system).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The SHA-256 of a key in lower-case hex: what the store keeps and looks up.
pub fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.trim().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key in an `Authorization: Basic base64("<key>:")` header, if the header is one.
pub fn from_basic_auth(header: &str) -> Option<String> {
    let encoded = header.trim().strip_prefix("Basic ").or_else(|| header.trim().strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split(':').next().unwrap_or("").trim();
    (!key.is_empty()).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex_and_hash_stably() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        // The SHA-256 of "abc", a published test vector.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn basic_auth_carries_the_key_as_user_name() {
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("k123:"));
        assert_eq!(from_basic_auth(&header).as_deref(), Some("k123"));
        assert_eq!(from_basic_auth("Bearer x"), None);
        assert_eq!(from_basic_auth("Basic !!!"), None);
    }
}
