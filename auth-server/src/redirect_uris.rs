//! Redirect URIs: which ones a client may register (the CLI), and whether a requested one is
//! registered (the authorize endpoint). RFC 9700 §2.1 asks for exact matching; the one exception is
//! RFC 8252 §7.3's, a native app's loopback listener whose port is chosen at run time.

use url::{Host, Url};

/// Why a URI cannot be registered.
pub fn registration_problem(raw: &str) -> Option<String> {
    if raw.is_empty()
        || raw.len() > 2000
        || raw.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Some("must be 1 to 2000 characters without spaces".into());
    }
    let Ok(url) = Url::parse(raw) else {
        return Some("is not an absolute URI".into());
    };
    if raw.contains('#') {
        return Some("must not have a fragment (RFC 6749 §3.1.2)".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not hold credentials".into());
    }
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if is_loopback(&url) => None,
        "http" => Some("must use https unless its host is 127.0.0.1, [::1] or localhost".into()),
        _ => Some("must be an https URI, or http on a loopback address".into()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `requested` is one of `registered`: character for character, or, for a public client,
/// an http URI on a loopback IP literal that differs from a registered one only in its port.
pub fn is_registered<'a>(
    requested: &str,
    mut registered: impl Iterator<Item = &'a str>,
    public_client: bool,
) -> bool {
    registered.any(|r| r == requested || (public_client && same_but_loopback_port(requested, r)))
}

fn same_but_loopback_port(requested: &str, registered: &str) -> bool {
    let (Ok(mut a), Ok(mut b)) = (Url::parse(requested), Url::parse(registered)) else {
        return false;
    };
    let loopback_ip = |u: &Url| {
        u.scheme() == "http"
            && match u.host() {
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            }
    };
    if !loopback_ip(&a) || !loopback_ip(&b) || requested.contains('#') {
        return false;
    }
    if a.set_port(None).is_err() || b.set_port(None).is_err() {
        return false;
    }
    // Compared as parsed, so "http://127.0.0.1:9/cb" and "http://127.0.0.1/cb" match; the raw
    // strings must still agree on everything but the port.
    a == b && strip_port(requested) == strip_port(registered)
}

/// The URI without the ":port" of its authority.
fn strip_port(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    format!("{scheme}://{host}{path}")
}

/// The origin (scheme://host[:port]) of a registered URI, for CORS.
pub fn origin(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_can_be_registered() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?x=1",
            "http://127.0.0.1:8001/docs/oauth2-redirect",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
        ] {
            assert_eq!(registration_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/relative",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "ftp://127.0.0.1/cb",
            "https://app.example.com/a b",
            "custom.scheme:/cb",
        ] {
            assert!(registration_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_but_for_a_public_clients_loopback_port() {
        let registered = ["https://app.example.com/cb", "http://127.0.0.1:1234/cb"];
        let reg = || registered.iter().copied();
        assert!(is_registered("https://app.example.com/cb", reg(), false));
        assert!(!is_registered("https://app.example.com/cb/", reg(), true));
        assert!(!is_registered("https://APP.example.com/cb", reg(), true));
        assert!(!is_registered("https://app.example.com/cb?x", reg(), true));
        assert!(is_registered("http://127.0.0.1:5555/cb", reg(), true));
        assert!(is_registered("http://127.0.0.1/cb", reg(), true));
        assert!(!is_registered("http://127.0.0.1:5555/cb", reg(), false));
        assert!(!is_registered("http://127.0.0.1:5555/other", reg(), true));
        assert!(!is_registered("http://127.0.0.1:5555/cb#x", reg(), true));
        assert!(!is_registered("http://localhost:1234/cb", reg(), true));
        assert!(!is_registered("http://127.0.0.2:1234/cb", reg(), true));
    }

    #[test]
    fn origins_of_registered_uris() {
        assert_eq!(
            origin("http://127.0.0.1:8001/docs/oauth2-redirect").as_deref(),
            Some("http://127.0.0.1:8001")
        );
        assert_eq!(
            origin("https://app.example.com:443/cb").as_deref(),
            Some("https://app.example.com")
        );
    }
}
