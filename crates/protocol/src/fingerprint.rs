//! The county CA's fingerprint: the SHA-256 of its certificate (DER), as `ledger-hub` prints it
//! beside each enrollment token and as an office types it to pin the CA. Written the way
//! `openssl x509 -noout -fingerprint -sha256` writes it, so county IT can compare the two; read
//! with any separators and either case, since people copy it from paper.

use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's DER bytes.
pub fn of_der(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// `AB:CD:…`: 32 upper-case hex pairs joined by colons.
pub fn format(fp: &[u8; 32]) -> String {
    let mut out = String::with_capacity(95);
    for (i, b) in fp.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// Reads a fingerprint typed by a person: 64 hex digits, separated by colons, spaces or hyphens
/// or not at all. `None` for anything else (a wrong length, a letter that is not hex).
pub fn parse(text: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b':' | b' ' | b'-' | b'\t'))
        .map(|b| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        out[i] = pair[0] << 4 | pair[1];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_openssl_and_reads_back_in_any_spelling() {
        let fp = of_der(b"certificate");
        let text = format(&fp);
        assert_eq!(text.len(), 95);
        assert_eq!(text.matches(':').count(), 31);
        assert_eq!(parse(&text), Some(fp));
        assert_eq!(parse(&text.to_lowercase().replace(':', "")), Some(fp));
        assert_eq!(parse(&text.replace(':', " ")), Some(fp));
        assert_eq!(parse(&text.replace(':', "-")), Some(fp));
    }

    #[test]
    fn refuses_what_is_not_a_fingerprint() {
        let text = format(&of_der(b"x"));
        assert_eq!(parse(&text[..text.len() - 3]), None, "one byte short");
        assert_eq!(parse(&format!("{text}:00")), None, "one byte long");
        assert_eq!(parse(&text.replacen('A', "G", 1).replacen('0', "G", 1)), None, "not hex");
        assert_eq!(parse(""), None);
        assert_eq!(parse("指纹"), None);
    }

    #[test]
    fn known_value() {
        // SHA-256 of the empty input.
        assert!(format(&of_der(b"")).starts_with("E3:B0:C4:42:98:FC:1C:14"));
    }
}
