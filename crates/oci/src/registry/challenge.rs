//! `WWW-Authenticate` challenges: parsing a header and choosing which to answer.

use std::collections::HashMap;

/// One authentication challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm=…`: send credentials with every request.
    Basic,
    /// `Bearer realm=…,service=…,scope=…`: get a token from `realm`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

impl Challenge {
    /// Every challenge in one header value (unknown schemes are skipped).
    pub(crate) fn parse_all(header: &str) -> Vec<Challenge> {
        let mut out = Vec::new();
        let mut p = Parser {
            s: header.as_bytes(),
            i: 0,
        };
        loop {
            p.skip(|c| c.is_ascii_whitespace() || c == b',');
            let scheme = p.token();
            if scheme.is_empty() {
                break;
            }
            let mut params = HashMap::new();
            loop {
                p.skip(|c| c.is_ascii_whitespace());
                let save = p.i;
                let key = p.token();
                p.skip(|c| c.is_ascii_whitespace());
                if key.is_empty() || !p.eat(b'=') {
                    p.i = save;
                    break;
                }
                p.skip(|c| c.is_ascii_whitespace());
                let value = p.value();
                params.insert(key.to_ascii_lowercase(), value);
                p.skip(|c| c.is_ascii_whitespace());
                if !p.eat(b',') {
                    break;
                }
            }
            match scheme.to_ascii_lowercase().as_str() {
                "basic" => out.push(Challenge::Basic),
                "bearer" => {
                    if let Some(realm) = params.remove("realm").filter(|r| !r.is_empty()) {
                        out.push(Challenge::Bearer {
                            realm,
                            service: params.remove("service"),
                            scope: params.remove("scope"),
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The challenge to answer: Bearer when offered, else Basic.
    pub(crate) fn preferred(all: Vec<Challenge>) -> Option<Challenge> {
        let mut basic = None;
        for c in all {
            match c {
                Challenge::Bearer { .. } => return Some(c),
                Challenge::Basic => basic = Some(c),
            }
        }
        basic
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.i < self.s.len() && f(self.s[self.i]) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&c));
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn value(&mut self) -> String {
        if !self.eat(b'"') {
            let start = self.i;
            self.skip(|c| c != b',' && !c.is_ascii_whitespace());
            return String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        }
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(&n) = self.s.get(self.i) {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_commas_in_scope() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#;
        assert_eq!(
            Challenge::parse_all(h),
            vec![Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            }]
        );
    }

    #[test]
    fn parses_several_and_odd_forms() {
        let h =
            r#"Basic realm="Registry Realm", Bearer realm=http://127.0.0.1:1/t , Negotiate abc=="#;
        let all = Challenge::parse_all(h);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0], Challenge::Basic);
        assert_eq!(
            Challenge::preferred(all),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/t".into(),
                service: None,
                scope: None
            })
        );
        assert_eq!(Challenge::parse_all("basic"), vec![Challenge::Basic]);
        assert!(Challenge::parse_all("").is_empty());
        assert!(Challenge::parse_all("Bearer service=x").is_empty());
        let esc = Challenge::parse_all(r#"Bearer realm="a\"b""#);
        assert!(matches!(&esc[0], Challenge::Bearer { realm, .. } if realm == "a\"b"));
    }
}
