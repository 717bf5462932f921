//! Timing: run something N times, keep every duration, report the median
//! (what the tables compare) and the minimum (the least disturbed run).
//!
//! Contenders are run interleaved — one run of each per round, after untimed
//! warm-up rounds — so that drift during the benchmark (page cache, CPU
//! frequency, other load on the machine) hits them alike.

use std::time::{Duration, Instant};

use anyhow::Result;

/// The durations of the timed runs of one contender.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    runs: Vec<Duration>,
}

impl Samples {
    /// Adds one run.
    pub fn push(&mut self, d: Duration) {
        self.runs.push(d);
    }

    /// Adds every run of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.runs.extend_from_slice(&other.runs);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.runs.clone();
        v.sort();
        v
    }

    /// The median (the mean of the two middle runs for an even count; zero
    /// when there are no runs).
    pub fn median(&self) -> Duration {
        let v = self.sorted();
        match v.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2,
        }
    }

    /// The run at quantile `q` (0.5 = median without averaging, 0.99 = p99;
    /// zero when there are no runs).
    pub fn quantile(&self, q: f64) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }

    /// The fastest run (zero when there are no runs).
    pub fn min(&self) -> Duration {
        self.runs.iter().min().copied().unwrap_or_default()
    }
}

/// Runs `f` once and returns its result and how long it took.
pub fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let start = Instant::now();
    let out = f()?;
    Ok((out, start.elapsed()))
}

/// One contender: a name for progress messages and a run that returns the
/// duration it measured itself, so that it can do untimed setup (a fresh
/// destination directory, a first pull) before starting its clock.
pub struct Contender<'a> {
    /// Shown in progress messages.
    pub name: &'static str,
    /// One run.
    pub run: Box<dyn FnMut() -> Result<Duration> + 'a>,
}

impl std::fmt::Debug for Contender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'a> Contender<'a> {
    /// A contender named `name` running `run`.
    pub fn new(name: &'static str, run: impl FnMut() -> Result<Duration> + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
        }
    }
}

/// How many runs: `warmup` untimed rounds, then `runs` timed ones.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Timed rounds.
    pub runs: usize,
    /// Untimed rounds first.
    pub warmup: usize,
}

impl Plan {
    /// Where the numbers come from, for a table's notes.
    pub fn describe(&self) -> String {
        format!(
            "times: median of {} runs (min in parentheses), contenders interleaved, after {} untimed warm-up run{} each",
            self.runs,
            self.warmup,
            if self.warmup == 1 { "" } else { "s" }
        )
    }
}

/// Runs every contender once per round, `plan.warmup` untimed rounds then
/// `plan.runs` timed ones; returns their samples in the same order.
pub fn interleaved(plan: Plan, contenders: &mut [Contender<'_>]) -> Result<Vec<Samples>> {
    let mut samples = vec![Samples::default(); contenders.len()];
    for round in 0..plan.warmup + plan.runs {
        let timed = round >= plan.warmup;
        for (c, s) in contenders.iter_mut().zip(&mut samples) {
            let d = (c.run)()?;
            if timed {
                s.push(d);
            }
            crate::progress(&format!(
                "  {:<18} {} {}",
                c.name,
                if timed {
                    format!("run {}/{}", round - plan.warmup + 1, plan.runs)
                } else {
                    "warm-up".to_owned()
                },
                crate::table::duration(d)
            ));
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Samples {
        let mut s = Samples::default();
        for &m in v {
            s.push(Duration::from_millis(m));
        }
        s
    }

    #[test]
    fn median_and_min() {
        assert_eq!(ms(&[30, 10, 20]).median(), Duration::from_millis(20));
        assert_eq!(ms(&[40, 10, 20, 30]).median(), Duration::from_millis(25));
        assert_eq!(ms(&[40, 10, 20, 30]).min(), Duration::from_millis(10));
        assert_eq!(ms(&[]).median(), Duration::ZERO);
    }

    #[test]
    fn interleaves_and_skips_warmup() -> Result<()> {
        let order = std::cell::RefCell::new(Vec::new());
        let mut cs = vec![
            Contender::new("a", || {
                order.borrow_mut().push('a');
                Ok(Duration::from_millis(1))
            }),
            Contender::new("b", || {
                order.borrow_mut().push('b');
                Ok(Duration::from_millis(2))
            }),
        ];
        let s = interleaved(Plan { runs: 2, warmup: 1 }, &mut cs)?;
        drop(cs);
        assert_eq!(order.into_inner(), vec!['a', 'b', 'a', 'b', 'a', 'b']);
        assert_eq!(s[0].runs.len(), 2);
        assert_eq!(s[1].median(), Duration::from_millis(2));
        Ok(())
    }
}
