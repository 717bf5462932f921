//! Request and byte accounting, readable while the client works.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Manifest GET/HEAD.
    Manifest,
    /// Blob GET/HEAD.
    Blob,
    /// Token endpoint.
    Token,
    /// Tag listing.
    Tags,
    /// Uploads, mounts and manifest PUTs.
    Push,
}

impl RequestKind {
    /// Every kind, in display order.
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Manifest,
        RequestKind::Blob,
        RequestKind::Token,
        RequestKind::Tags,
        RequestKind::Push,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// A short lowercase name (`manifest`, `blob`).
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Manifest => "manifest",
            RequestKind::Blob => "blob",
            RequestKind::Token => "token",
            RequestKind::Tags => "tags",
            RequestKind::Push => "push",
        }
    }
}

/// Counters of one client: HTTP requests sent (every attempt, retries and
/// authentication round trips included) and response body bytes received.
#[derive(Debug, Default)]
pub struct Stats {
    requests: [AtomicU64; 5],
    bytes_received: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Requests per kind, indexed like [`RequestKind::ALL`].
    pub requests: [u64; 5],
    /// Response body bytes received.
    pub bytes_received: u64,
}

impl StatsSnapshot {
    /// Requests of one kind.
    pub fn requests_of(&self, kind: RequestKind) -> u64 {
        self.requests[kind.index()]
    }

    /// Requests of all kinds.
    pub fn total_requests(&self) -> u64 {
        self.requests.iter().sum()
    }
}

impl Stats {
    pub(crate) fn count_request(&self, kind: RequestKind) {
        self.requests[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_bytes(&self, n: usize) {
        self.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Requests of one kind so far.
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.requests[kind.index()].load(Ordering::Relaxed)
    }

    /// Requests of all kinds so far.
    pub fn total_requests(&self) -> u64 {
        self.requests
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Response body bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    /// All counters at once.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut requests = [0; 5];
        for (slot, c) in requests.iter_mut().zip(&self.requests) {
            *slot = c.load(Ordering::Relaxed);
        }
        StatsSnapshot {
            requests,
            bytes_received: self.bytes_received(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let s = Stats::default();
        s.count_request(RequestKind::Blob);
        s.count_request(RequestKind::Blob);
        s.count_request(RequestKind::Token);
        s.count_bytes(10);
        assert_eq!(s.requests(RequestKind::Blob), 2);
        assert_eq!(s.total_requests(), 3);
        let snap = s.snapshot();
        assert_eq!(snap.requests_of(RequestKind::Token), 1);
        assert_eq!(snap.total_requests(), 3);
        assert_eq!(snap.bytes_received, 10);
        assert_eq!(RequestKind::ALL[3].name(), "tags");
    }
}
