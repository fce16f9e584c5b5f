//! AWS Signature Version 4 for S3 requests (header authorization). Written here because the
//! crates that do it bring a second crypto stack or the whole AWS SDK; this is the algorithm of
//! AWS's "Create a signed AWS API request", checked against its published S3 test vector.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::Credentials;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: `A-Za-z0-9-_.~` kept, `/` kept unless `slash`.
pub(crate) fn uri_encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b'/' if !slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `20130524T000000Z` and `20130524` for a Unix time.
fn amz_date(unix: u64) -> (String, String) {
    let days = (unix / 86_400) as i64;
    let seconds = unix % 86_400;
    let (year, month, day) = crate::date::civil_from_days(days);
    let date = format!("{year:04}{month:02}{day:02}");
    (format!("{date}T{:02}{:02}{:02}Z", seconds / 3600, seconds / 60 % 60, seconds % 60), date)
}

/// A request to sign: `path` unencoded (`/bucket/key with space`), `query` decoded pairs.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign besides `host`, `x-amz-date`, `x-amz-content-sha256` and the token.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload_sha256: &'a str,
}

/// The headers to send (with `authorization`), for `region` and `service` (`s3`, `lambda`), at
/// `unix`.
pub(crate) fn sign(
    request: &Request,
    credentials: &Credentials,
    region: &str,
    service: &str,
    unix: u64,
) -> Vec<(String, String)> {
    let (stamp, date) = amz_date(unix);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), request.host.into()),
        ("x-amz-date".into(), stamp.clone()),
        ("x-amz-content-sha256".into(), request.payload_sha256.into()),
    ];
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token".into(), token.clone()));
    }
    for (name, value) in request.headers {
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    headers.sort();
    let signed = headers.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(";");
    let canonical_headers: String = headers.iter().map(|(name, value)| format!("{name}:{value}\n")).collect();
    let mut query: Vec<(String, String)> =
        request.query.iter().map(|(key, value)| (uri_encode(key, true), uri_encode(value, true))).collect();
    query.sort();
    let query = query.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&");
    // S3 encodes the path once, other services twice.
    let path = match service {
        "s3" => uri_encode(request.path, false),
        _ => uri_encode(&uri_encode(request.path, false), false),
    };
    let canonical =
        format!("{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{}", request.method, request.payload_sha256);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!("AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
    let key = [date.as_bytes(), region.as_bytes(), service.as_bytes(), b"aws4_request"]
        .iter()
        .fold(format!("AWS4{}", credentials.secret_access_key).into_bytes(), |key, part| hmac(&key, part));
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(name, _)| name != "host").collect();
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_s3_get_object_example_signs_to_its_published_signature() {
        // AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
        let credentials = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        assert_eq!(amz_date(1_369_353_600).0, "20130524T000000Z");
        let empty = sha256_hex(b"");
        let request = Request {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            query: &[],
            headers: &[("Range", "bytes=0-9")],
            payload_sha256: &empty,
        };
        let headers = sign(&request, &credentials, "us-east-1", "s3", 1_369_353_600);
        let authorization = &headers.iter().find(|(name, _)| name == "authorization").unwrap().1;
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(uri_encode("a b/é+", false), "a%20b/%C3%A9%2B");
        assert_eq!(amz_date(951_782_400).1, "20000229", "a leap day");
    }
}
