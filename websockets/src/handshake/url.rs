//! A `ws://` or `wss://` URL, parsed by hand (RFC 6455 §3).

/// The parts of a WebSocket URL that a client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl<'a> {
    /// `wss://`: the connection runs over TLS.
    pub(crate) secure: bool,
    /// The host as written: a name, an IPv4 address, or an IPv6 address in brackets.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// Whether the URL named a port other than the scheme's default (then `Host` carries it).
    pub(crate) explicit_port: bool,
    /// The path and query, at least `/`.
    pub(crate) resource: String,
}

impl<'a> WsUrl<'a> {
    /// Parses `ws://host[:port][/path][?query]` or the same with `wss://`.
    pub(crate) fn parse(url: &'a str) -> Result<Self, &'static str> {
        let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "wss://") {
            (true, rest)
        } else {
            return Err("the scheme must be ws:// or wss://");
        };
        // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs and MUST NOT be used.
        if rest.contains('#') {
            return Err("a websocket url has no fragment");
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err("user information in the url is not supported");
        }
        let (host, port) = if authority.starts_with('[') {
            let close = authority.find(']').ok_or("unclosed ipv6 address")?;
            let (host, after) = authority.split_at(close + 1);
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err("unexpected text after the ipv6 address"),
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err("the url has no host");
        }
        if !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the host has spaces or control characters");
        }
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the path has spaces, control characters or non-ascii bytes");
        }
        let default = if secure { 443 } else { 80 };
        let port = match port {
            None => default,
            Some(text) => match text.parse::<u16>() {
                Ok(p) if p != 0 && text.bytes().all(|b| b.is_ascii_digit()) => p,
                _ => return Err("the port is not a number from 1 to 65535"),
            },
        };
        let resource = match resource.as_bytes().first() {
            None => "/".to_owned(),
            Some(b'?') => format!("/{resource}"),
            Some(_) => resource.to_owned(),
        };
        Ok(Self {
            secure,
            host,
            port,
            explicit_port: port != default,
            resource,
        })
    }

    /// The `Host` header value: the host, with the port unless it is the default (RFC 6455 §4.1).
    pub(crate) fn host_header(&self) -> String {
        if self.explicit_port {
            format!("{}:{}", self.host, self.port)
        } else {
            self.host.to_owned()
        }
    }

    /// The host without IPv6 brackets, for name resolution and TLS server names.
    pub(crate) fn bare_host(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls() {
        for (url, secure, host, port, host_header, resource) in [
            (
                "ws://example.com",
                false,
                "example.com",
                80,
                "example.com",
                "/",
            ),
            (
                "WS://example.com/",
                false,
                "example.com",
                80,
                "example.com",
                "/",
            ),
            (
                "wss://example.com",
                true,
                "example.com",
                443,
                "example.com",
                "/",
            ),
            (
                "ws://127.0.0.1:9001",
                false,
                "127.0.0.1",
                9001,
                "127.0.0.1:9001",
                "/",
            ),
            ("ws://h:80/a/b?c=d&e", false, "h", 80, "h", "/a/b?c=d&e"),
            ("wss://h:80/", true, "h", 80, "h:80", "/"),
            ("ws://h?x=1", false, "h", 80, "h", "/?x=1"),
            (
                "ws://[::1]:9001/p",
                false,
                "[::1]",
                9001,
                "[::1]:9001",
                "/p",
            ),
            ("ws://[::1]", false, "[::1]", 80, "[::1]", "/"),
        ] {
            let u = WsUrl::parse(url).unwrap();
            assert_eq!(
                (
                    u.secure,
                    u.host,
                    u.port,
                    u.host_header(),
                    u.resource.as_str()
                ),
                (secure, host, port, host_header.to_owned(), resource),
                "{url}"
            );
        }
        assert_eq!(WsUrl::parse("ws://[::1]:1").unwrap().bare_host(), "::1");
        assert_eq!(WsUrl::parse("ws://a:1").unwrap().bare_host(), "a");
    }

    #[test]
    fn bad_urls() {
        for url in [
            "http://example.com",
            "ws:/example.com",
            "ws://",
            "ws://:80",
            "ws://h:0",
            "ws://h:65536",
            "ws://h:+80",
            "ws://h:x",
            "ws://h:",
            "ws://h/#frag",
            "ws://user@h",
            "ws://[::1",
            "ws://[::1]x",
            "ws://[]",
            "ws://h/a b",
            "ws://h/\u{e9}",
        ] {
            assert!(WsUrl::parse(url).is_err(), "{url}");
        }
    }
}
