//! Device and hub keys (Ed25519), and the sealed credential of enrollment.
//!
//! Each device makes a key pair when it enrolls and sends only the public half; the hub keeps
//! its own key pair in a file beside (not inside) its database and gives offices its public
//! key. USB bundles are signed with the sender's private key and checked with its public key,
//! so nothing found in a copy of the hub's database (token and credential hashes, public keys)
//! can sign a bundle.
//!
//! The credential the hub returns at enrollment is sealed to the device's key (X25519 on the
//! Ed25519 key, a BLAKE3 key stream and tag): a replayed enrollment request, which the hub
//! answers with the same credential for a while so that a device whose reply was lost can
//! retry, gets back only bytes that the device's private key opens.

use curve25519_dalek::MontgomeryPoint;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use subtle::ConstantTimeEq;

/// Why a key, a signature or a sealed credential is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 32 bytes of hex, or not a point on the curve.
    #[error("密钥格式有误")]
    BadKey,
    /// The signature does not verify.
    #[error("签名不符")]
    BadSignature,
    /// The sealed credential does not open with this key.
    #[error("接入凭据无法用本机密钥解开")]
    Unsealable,
}

/// A private signing key: a device's, or the hub's.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.public().to_hex())
    }
}

impl SecretKey {
    /// A key from 32 random bytes.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The 32 secret bytes, hex, to keep in a private file or an encrypted store.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// A key read back from [`SecretKey::to_hex`].
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        Ok(Self::from_seed(unhex32(text)?))
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Opens a credential sealed to this key's public half.
    pub fn open(&self, sealed: &Sealed) -> Result<String, KeyError> {
        let shared = MontgomeryPoint(sealed.ephemeral).mul_clamped(self.0.to_scalar_bytes());
        let (stream, mac_key) =
            key_stream(&shared, &sealed.ephemeral, &self.public(), sealed.ciphertext.len());
        let tag = blake3::keyed_hash(&mac_key, &sealed.ciphertext);
        if !bool::from(tag.as_bytes().ct_eq(&sealed.tag)) {
            return Err(KeyError::Unsealable);
        }
        let plain: Vec<u8> = sealed.ciphertext.iter().zip(stream).map(|(c, k)| c ^ k).collect();
        String::from_utf8(plain).map_err(|_| KeyError::Unsealable)
    }
}

impl SecretKey {
    /// The key two parties share for USB bundles: X25519 between this key and `other`'s (the
    /// device's and the hub's), so only the two can read what the bundle carries.
    pub fn shared_with(&self, other: &PublicKey) -> BundleKey {
        let shared = other.0.to_montgomery().mul_clamped(self.0.to_scalar_bytes());
        let (a, b) = (self.public().0.to_bytes(), other.0.to_bytes());
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let mut h = blake3::Hasher::new_derive_key("petition-ledger 2026 usb bundle body");
        h.update(shared.as_bytes());
        h.update(&first);
        h.update(&second);
        BundleKey(*h.finalize().as_bytes())
    }
}

/// The key a device and the hub share for the bodies of their USB bundles.
#[derive(Clone)]
pub struct BundleKey([u8; 32]);

impl std::fmt::Debug for BundleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BundleKey(..)")
    }
}

const NONCE: usize = 24;

impl BundleKey {
    /// Encrypts a bundle body with a fresh nonce (24 random bytes): nonce, then ciphertext. The
    /// bundle's signature covers the result, so it is not altered unnoticed.
    pub fn encrypt(&self, nonce: [u8; NONCE], plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(NONCE + plain.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        self.apply(&nonce, &mut out[NONCE..]);
        out
    }

    /// Decrypts what [`BundleKey::encrypt`] wrote.
    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE {
            return Err(KeyError::Unsealable);
        }
        let (nonce, body) = sealed.split_at(NONCE);
        let mut plain = body.to_vec();
        self.apply(nonce, &mut plain);
        Ok(plain)
    }

    fn apply(&self, nonce: &[u8], bytes: &mut [u8]) {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(nonce);
        let mut stream = h.finalize_xof();
        let mut block = [0u8; 4096];
        for chunk in bytes.chunks_mut(block.len()) {
            stream.fill(&mut block[..chunk.len()]);
            for (b, k) in chunk.iter_mut().zip(block.iter()) {
                *b ^= k;
            }
        }
    }
}

/// A public key: what the hub keeps of a device, and what an office keeps of the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// A key from [`PublicKey::to_hex`]; refused when not a valid curve point.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = unhex32(text)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadKey)?;
        // A weak (small-order) key would accept forged signatures.
        if key.is_weak() {
            return Err(KeyError::BadKey);
        }
        Ok(Self(key))
    }

    /// Checks `signature` over `message` (strictly: no malleable encodings).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), KeyError> {
        let signature = Signature::from_bytes(signature);
        self.0.verify_strict(message, &signature).map_err(|_| KeyError::BadSignature)
    }

    /// Seals `credential` to this key with a fresh ephemeral secret (32 random bytes).
    pub fn seal(&self, credential: &str, ephemeral_secret: [u8; 32]) -> Sealed {
        let ephemeral = MontgomeryPoint::mul_base_clamped(ephemeral_secret).to_bytes();
        let shared = self.0.to_montgomery().mul_clamped(ephemeral_secret);
        let (stream, mac_key) = key_stream(&shared, &ephemeral, self, credential.len());
        let ciphertext: Vec<u8> = credential.bytes().zip(stream).map(|(c, k)| c ^ k).collect();
        let tag = *blake3::keyed_hash(&mac_key, &ciphertext).as_bytes();
        Sealed { ephemeral, ciphertext, tag }
    }
}

/// A credential sealed to a device's key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sealed {
    /// The hub's ephemeral X25519 public value.
    #[serde(with = "hex_array")]
    pub ephemeral: [u8; 32],
    /// The credential, encrypted.
    #[serde(with = "hex_vec")]
    pub ciphertext: Vec<u8>,
    /// A MAC over the ciphertext: proves the right key opened it, unaltered.
    #[serde(with = "hex_array")]
    pub tag: [u8; 32],
}

/// The key stream for `len` bytes and the MAC key, from the shared secret.
fn key_stream(
    shared: &MontgomeryPoint,
    ephemeral: &[u8; 32],
    recipient: &PublicKey,
    len: usize,
) -> (Vec<u8>, [u8; 32]) {
    let mut h = blake3::Hasher::new_derive_key("petition-ledger 2026 enrollment credential seal");
    h.update(shared.as_bytes());
    h.update(ephemeral);
    h.update(recipient.0.as_bytes());
    let mut out = vec![0u8; 32 + len];
    h.finalize_xof().fill(&mut out);
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&out[..32]);
    (out.split_off(32), tag)
}

fn unhex32(text: &str) -> Result<[u8; 32], KeyError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|_| KeyError::BadKey)?;
    Ok(out)
}

mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        super::unhex32(&text).map_err(D::Error::custom)
    }
}

mod hex_vec {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// A sealed credential is short; anything longer is not one.
    const MAX: usize = 256;

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() > MAX * 2 {
            return Err(D::Error::custom("bad hex"));
        }
        hex::decode(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    #[test]
    fn signatures_verify_only_with_the_signers_key_and_message() {
        let a = key(1);
        let sig = a.sign(b"bundle");
        assert_eq!(a.public().verify(b"bundle", &sig), Ok(()));
        assert_eq!(a.public().verify(b"bundle!", &sig), Err(KeyError::BadSignature));
        assert_eq!(key(2).public().verify(b"bundle", &sig), Err(KeyError::BadSignature));
        let mut flipped = sig;
        flipped[10] ^= 1;
        assert_eq!(a.public().verify(b"bundle", &flipped), Err(KeyError::BadSignature));
    }

    #[test]
    fn keys_round_trip_as_hex_and_garbage_is_refused() {
        let a = key(3);
        assert_eq!(SecretKey::from_hex(&a.to_hex()).unwrap().public(), a.public());
        assert_eq!(PublicKey::from_hex(&a.public().to_hex()), Ok(a.public()));
        assert_eq!(PublicKey::from_hex("zz"), Err(KeyError::BadKey));
        assert_eq!(PublicKey::from_hex(&"g".repeat(64)), Err(KeyError::BadKey));
        // The identity point: small order, would verify forged signatures.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_hex(&hex::encode(identity)), Err(KeyError::BadKey));
        assert_eq!(PublicKey::from_hex(&format!("{}é", "a".repeat(62))), Err(KeyError::BadKey));
    }

    #[test]
    fn the_device_and_the_hub_share_a_bundle_key_no_one_else_has() {
        let (device, hub, thief) = (key(10), key(11), key(12));
        let up = device.shared_with(&hub.public());
        let down = hub.shared_with(&device.public());
        let body = "黄桥镇 钱七 11010519491231002X".repeat(500);
        let sealed = up.encrypt([3; NONCE], body.as_bytes());
        assert!(!sealed.windows("钱七".len()).any(|w| w == "钱七".as_bytes()), "in the clear");
        assert_eq!(down.decrypt(&sealed).unwrap(), body.as_bytes());
        let wrong = thief.shared_with(&hub.public()).decrypt(&sealed).unwrap();
        assert_ne!(wrong, body.as_bytes());
        assert_ne!(up.encrypt([4; NONCE], body.as_bytes()), sealed, "a fresh nonce each time");
        assert!(down.decrypt(&[1, 2, 3]).is_err());
    }

    #[test]
    fn a_sealed_credential_opens_only_with_the_devices_private_key() {
        let device = key(4);
        let sealed = device.public().seal("credential-123", [9; 32]);
        assert!(!sealed.ciphertext.windows(4).any(|w| w == b"cred"), "not in the clear");
        assert_eq!(device.open(&sealed).unwrap(), "credential-123");
        assert_eq!(key(5).open(&sealed), Err(KeyError::Unsealable));
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(device.open(&tampered), Err(KeyError::Unsealable));
        // Each seal uses a fresh ephemeral value, so two replies to a replay differ.
        assert_ne!(device.public().seal("credential-123", [8; 32]).ciphertext, sealed.ciphertext);
        let json = serde_json::to_string(&sealed).unwrap();
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), sealed);
    }
}
