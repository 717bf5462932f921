//! Durations and sizes as the configuration files and flags write them.

use std::time::Duration;

/// Why text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A bare number of seconds past what fits.
    #[error("`{text}` is too large a number of seconds")]
    TooLarge {
        /// The text as written.
        text: String,
    },
    /// Neither a number nor numbers with units.
    #[error(
        "`{text}` is not a duration: write a number and a unit (s, m, h, d), for example \"12h\" or \"1h30m\""
    )]
    NotADuration {
        /// The text as written.
        text: String,
    },
}

/// Why text is not a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not a number with an optional unit.
    #[error(
        "`{text}` is not a size: write a number of bytes or a number and a unit (KiB, MiB, GiB, TiB), for example \"4GiB\""
    )]
    NotASize {
        /// The text as written.
        text: String,
    },
    /// More bytes than fit.
    #[error("`{text}` is too large")]
    TooLarge {
        /// The text as written.
        text: String,
    },
}

/// Parses `30s`, `15m`, `12h`, `1d`, `1h30m` (a number and a unit, repeated),
/// a bare number of seconds, or `0` / `off` / `never` (zero: never).
pub fn parse_duration(raw: &str) -> Result<Duration, DurationError> {
    let trimmed = raw.trim();
    if matches!(trimmed, "off" | "never") {
        return Ok(Duration::ZERO);
    }
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| DurationError::TooLarge {
                text: raw.to_owned(),
            });
    }
    let bad = || DurationError::NotADuration {
        text: raw.to_owned(),
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    let text = raw.trim();
    if text.is_empty() {
        return Err(bad());
    }
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// Parses a size: a number of bytes, or a number and a unit (`KiB`, `MiB`,
/// `GiB`, `TiB` — or `K`, `M`, `G`, `T` — powers of 1024; `kB`, `MB`, `GB`,
/// `TB` powers of 1000), spaces allowed between them; `0` / `off`: none.
pub fn parse_size(raw: &str) -> Result<u64, SizeError> {
    let text = raw.trim();
    if matches!(text, "off" | "none") {
        return Ok(0);
    }
    let bad = || SizeError::NotASize {
        text: raw.to_owned(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim() {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).ok_or_else(|| SizeError::TooLarge {
        text: raw.to_owned(),
    })
}

/// A size for messages: `4GiB`, `256MiB`, `1.5GiB`, `512B`.
pub fn format_size(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{}{unit}", n / size)
            } else {
                format!("{:.1}{unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        for never in ["0", "0s", "off", "never"] {
            assert_eq!(parse_duration(never).unwrap(), Duration::ZERO, "{never}");
        }
        for bad in ["", "h", "1x", "1.5h", "12 h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("256 MiB").unwrap(), 256 << 20);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("off").unwrap(), 0);
        for bad in ["", "GiB", "1.5GiB", "4 gigs", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("99999999TiB").is_err());
        assert_eq!(format_size(4 << 30), "4GiB");
        assert_eq!(format_size(3 << 29), "1.5GiB");
        assert_eq!(format_size(100), "100B");
    }
}
