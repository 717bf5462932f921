//! Result tables: one per measurement, with dockhand's number, the baseline's
//! (measured in the same run), their ratio, the target and whether it was met.
//!
//! ```text
//! measure       | dockhand | baseline | ratio | target | ok?
//! --------------+----------+----------+-------+--------+-------
//! pull, 2 plat. |  412 ms  |  380 ms  | 1.08× | ≤ 1.2× | ok
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::Samples;

/// Whether a row's target was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Met.
    Ok,
    /// Missed.
    Missed,
    /// No target: the row is for information.
    Info,
}

impl Verdict {
    /// `Ok` when `met`, else `Missed`.
    pub fn of(met: bool) -> Self {
        if met { Verdict::Ok } else { Verdict::Missed }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Missed => "MISSED",
            Verdict::Info => "-",
        }
    }
}

/// One row.
#[derive(Debug, Clone)]
pub struct Row {
    measure: String,
    ours: String,
    baseline: String,
    ratio: Option<f64>,
    target: String,
    verdict: Verdict,
}

impl Row {
    /// A row with dockhand's value and nothing else yet.
    pub fn new(measure: impl Into<String>, ours: impl Into<String>) -> Self {
        Self {
            measure: measure.into(),
            ours: ours.into(),
            baseline: "-".into(),
            ratio: None,
            target: "-".into(),
            verdict: Verdict::Info,
        }
    }

    /// The baseline's value and dockhand / baseline, when a ratio means something.
    pub fn baseline(mut self, value: impl Into<String>, ratio: Option<f64>) -> Self {
        self.baseline = value.into();
        self.ratio = ratio;
        self
    }

    /// The target and whether it was met.
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Self {
        self.target = target.into();
        self.verdict = Verdict::of(met);
        self
    }

    /// `measure`: the samples `ours` against the samples `baseline` (the
    /// median and min of each) and the ratio of their medians.
    pub fn timed(measure: impl Into<String>, ours: &Samples, baseline: &Samples) -> Self {
        Self::new(measure, samples(ours)).baseline(samples(baseline), time_ratio(ours, baseline))
    }

    /// The target "at most `limit` times the baseline" (`≤ 1.2×`, with
    /// `precision` decimals), met when the ratio is known and not above it.
    pub fn ratio_at_most(self, limit: f64, precision: usize) -> Self {
        let met = self.ratio.is_some_and(|r| r <= limit);
        self.target(format!("≤ {limit:.precision$}×"), met)
    }

    /// The target, written for information only (no verdict).
    pub fn goal(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self.verdict = Verdict::Info;
        self
    }
}

/// A titled table with notes under it.
#[derive(Debug, Clone)]
pub struct Table {
    title: String,
    rows: Vec<Row>,
    notes: Vec<String>,
}

const HEADERS: [&str; 6] = ["measure", "dockhand", "baseline", "ratio", "target", "ok?"];

impl Table {
    /// An empty table.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, row: Row) -> &mut Self {
        self.rows.push(row);
        self
    }

    /// Adds a note printed under the rows.
    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The table as text, columns aligned (numbers right-aligned).
    pub fn render(&self) -> String {
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.measure.clone(),
                    r.ours.clone(),
                    r.baseline.clone(),
                    r.ratio.map_or_else(|| "-".to_owned(), format_ratio),
                    r.target.clone(),
                    r.verdict.label().to_owned(),
                ]
            })
            .collect();
        let mut widths = HEADERS.map(width);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(c));
            }
        }
        let right = [false, true, true, true, false, false];
        let line = |cols: [&str; 6]| {
            let parts: Vec<String> = cols
                .iter()
                .zip(widths)
                .zip(right)
                .map(|((c, w), r)| pad(c, w, r))
                .collect();
            parts.join(" | ").trim_end().to_owned()
        };
        let mut out = String::new();
        let _ = writeln!(out, "== {} ==", self.title);
        let _ = writeln!(out, "{}", line(HEADERS));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "{}", rule.join("-+-"));
        for row in &cells {
            let _ = writeln!(out, "{}", line(row.each_ref().map(String::as_str)));
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }
}

/// `1.08×`; small ratios keep two significant digits (`0.000073×`).
fn format_ratio(r: f64) -> String {
    if r > 0.0 && r < 0.01 {
        let digits = (-r.log10().floor()) as usize + 1;
        format!("{r:.digits$}×")
    } else {
        format!("{r:.2}×")
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// Prints tables as they come and counts verdicts.
#[derive(Debug, Default)]
pub struct Report {
    met: usize,
    missed: Vec<String>,
}

impl Report {
    /// Prints `table` on stdout and counts its verdicts.
    pub fn print(&mut self, table: &Table) {
        println!("{}", table.render());
        self.record(table);
    }

    /// Counts `table`'s verdicts.
    pub fn record(&mut self, table: &Table) {
        for r in table.rows() {
            match r.verdict {
                Verdict::Ok => self.met += 1,
                Verdict::Missed => self.missed.push(format!("{}: {}", table.title, r.measure)),
                Verdict::Info => {}
            }
        }
    }

    /// The closing summary line(s).
    pub fn summary(&self) -> String {
        let total = self.met + self.missed.len();
        let mut s = format!("{} of {total} targets met", self.met);
        for m in &self.missed {
            let _ = write!(s, "\nmissed: {m}");
        }
        s
    }
}

/// A duration for humans: `850 µs`, `412 ms`, `1.23 s`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 10.0 {
        format!("{secs:.1} s")
    } else if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 0.001 {
        format!("{:.0} ms", secs * 1e3)
    } else {
        format!("{:.0} µs", secs * 1e6)
    }
}

/// Median and min of samples: `412 ms (min 398 ms)`.
pub fn samples(s: &Samples) -> String {
    format!("{} (min {})", duration(s.median()), duration(s.min()))
}

/// A byte count for humans: `512 B`, `12.3 KiB`, `48.0 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f >= KIB * KIB {
        format!("{:.1} MiB", f / KIB / KIB)
    } else if f >= KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{n} B")
    }
}

/// `a / b`, when `b` is not zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

/// The ratio of two samples' medians.
pub fn time_ratio(ours: &Samples, baseline: &Samples) -> Option<f64> {
    ratio(ours.median().as_secs_f64(), baseline.median().as_secs_f64())
}

/// The quantiles the latency rows show, with their labels.
pub const QUANTILES: [(&str, f64); 2] = [("p50", 0.5), ("p99", 0.99)];

/// What a pair of latency rows is held to.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// A ratio of at most this.
    AtMost(f64),
    /// Faster than the baseline (a ratio below 1).
    Faster,
    /// Nothing: for information.
    Info,
}

/// A row per [`QUANTILES`] entry, `"{what} {p50|p99}, {against}"`: `ours`
/// against `base` and their ratio, held to `goal`.
pub fn quantile_rows(
    t: &mut Table,
    what: &str,
    against: &str,
    ours: &Samples,
    base: &Samples,
    goal: Goal,
) {
    for (label, q) in QUANTILES {
        let (o, b) = (ours.quantile(q), base.quantile(q));
        let r = ratio(o.as_secs_f64(), b.as_secs_f64());
        let row =
            Row::new(format!("{what} {label}, {against}"), duration(o)).baseline(duration(b), r);
        t.row(match goal {
            Goal::AtMost(limit) => row.ratio_at_most(limit, 1),
            Goal::Faster => row.target("< 1×", r.is_some_and(|r| r < 1.0)),
            Goal::Info => row.goal("(none)"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_rows_compare_medians_and_hold_a_ratio() {
        let of = |ms: &[u64]| {
            let mut s = Samples::default();
            for m in ms {
                s.push(Duration::from_millis(*m));
            }
            s
        };
        let (ours, base) = (of(&[30, 10, 20]), of(&[40, 20, 30]));
        let row = Row::timed("m", &ours, &base).ratio_at_most(0.75, 2);
        assert_eq!(row.ours, "20 ms (min 10 ms)");
        assert_eq!(row.baseline, "30 ms (min 20 ms)");
        assert_eq!(row.target, "≤ 0.75×");
        assert_eq!(row.verdict, Verdict::Ok);
        let row = Row::timed("m", &base, &ours).ratio_at_most(1.2, 1);
        assert_eq!(
            (row.target.as_str(), row.verdict),
            ("≤ 1.2×", Verdict::Missed)
        );
    }

    #[test]
    fn renders_aligned() {
        let mut t = Table::new("t");
        t.row(
            Row::new("a long measure", "1 ms")
                .baseline("2 ms", Some(0.5))
                .target("≤ 1.2×", true),
        );
        t.row(Row::new("b", "100 ms"));
        t.note("n");
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "== t ==");
        assert!(lines[1].starts_with("measure        | dockhand | baseline | ratio"));
        assert_eq!(
            lines[3],
            "a long measure |     1 ms |     2 ms | 0.50× | ≤ 1.2× | ok"
        );
        assert_eq!(
            lines[4],
            "b              |   100 ms |        - |     - | -      | -"
        );
        assert_eq!(lines[5], "note: n");
    }

    #[test]
    fn units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 / 2), "1.5 KiB");
        assert_eq!(bytes(48 * 1024 * 1024), "48.0 MiB");
        assert_eq!(duration(Duration::from_millis(412)), "412 ms");
        assert_eq!(duration(Duration::from_millis(1234)), "1.23 s");
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(format_ratio(1.084), "1.08×");
        assert_eq!(format_ratio(0.0), "0.00×");
        assert_eq!(format_ratio(2.4 / 32768.0), "0.000073×");
    }

    #[test]
    fn report_counts() {
        let mut t = Table::new("t");
        t.row(Row::new("x", "1").target("1", true));
        t.row(Row::new("y", "2").target("1", false));
        let mut r = Report::default();
        r.record(&t);
        assert_eq!(r.summary(), "1 of 2 targets met\nmissed: t: y");
    }
}
