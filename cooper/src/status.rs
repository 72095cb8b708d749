//! The error status a server callback rejects an upgrade with.

use std::fmt;

use crate::InvalidHeader;

/// An HTTP error status (400–599) with which a server rejects an upgrade request.
///
/// Only error statuses can be built, so a rejection can never be mistaken for a success.
/// A caller's invalid response header ([`InvalidHeader`]) converts into
/// [`Status::INTERNAL_SERVER_ERROR`], so the callback can use `?` on
/// [`HeaderBuf::push`](crate::HeaderBuf::push).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(u16);

impl Status {
    /// `400 Bad Request`: the request is malformed or breaks the protocol's rules.
    pub const BAD_REQUEST: Self = Self(400);
    /// `401 Unauthorized`.
    pub const UNAUTHORIZED: Self = Self(401);
    /// `403 Forbidden`: e.g. an `Origin` the server does not accept.
    pub const FORBIDDEN: Self = Self(403);
    /// `404 Not Found`: no endpoint at this path.
    pub const NOT_FOUND: Self = Self(404);
    /// `405 Method Not Allowed`: send an `Allow` header with it (RFC 9110 §15.5.6).
    pub const METHOD_NOT_ALLOWED: Self = Self(405);
    /// `426 Upgrade Required`: the request asked for no protocol the server speaks.
    pub const UPGRADE_REQUIRED: Self = Self(426);
    /// `429 Too Many Requests`.
    pub const TOO_MANY_REQUESTS: Self = Self(429);
    /// `431 Request Header Fields Too Large`: the head exceeded the server's bound.
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: Self = Self(431);
    /// `500 Internal Server Error`.
    pub const INTERNAL_SERVER_ERROR: Self = Self(500);
    /// `503 Service Unavailable`.
    pub const SERVICE_UNAVAILABLE: Self = Self(503);

    /// The status with this code, if it is an error status (400–599).
    ///
    /// ```
    /// use lowbit_cooper::Status;
    /// assert_eq!(Status::new(403), Some(Status::FORBIDDEN));
    /// assert_eq!(Status::new(200), None);
    /// ```
    #[must_use]
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 400 && code <= 599 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The numeric code.
    #[must_use]
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The standard reason phrase, or a generic one for codes without a registered phrase.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self.0 {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            426 => "Upgrade Required",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            code if code < 500 => "Client Error",
            _ => "Server Error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}

impl From<InvalidHeader> for Status {
    fn from(_: InvalidHeader) -> Self {
        Self::INTERNAL_SERVER_ERROR
    }
}

impl From<Status> for u16 {
    fn from(s: Status) -> Self {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_error_statuses() {
        assert_eq!(Status::new(399), None);
        assert_eq!(Status::new(101), None);
        assert_eq!(Status::new(600), None);
        assert_eq!(Status::new(400).map(Status::code), Some(400));
        assert_eq!(Status::new(599).map(Status::reason), Some("Server Error"));
        assert_eq!(Status::new(418).map(Status::reason), Some("Client Error"));
        assert_eq!(Status::UPGRADE_REQUIRED.to_string(), "426 Upgrade Required");
        assert_eq!(Status::from(InvalidHeader), Status::INTERNAL_SERVER_ERROR);
    }
}
