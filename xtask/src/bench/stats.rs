//! The statistics every benchmark reports, defined once: the median (for an even count, the
//! mean of the two middle values), the minimum and maximum, and the rounding of JSON reports.

use super::harness::Sample;

/// The median of `values`: the middle one of the sorted values, or for an even count the mean
/// of the two middle ones. `values` must not be empty (every benchmark runs at least once).
pub fn median(values: &[f64]) -> f64 {
    Summary::of(values.iter().copied()).median
}

/// Median, minimum and maximum of one quantity over a benchmark's rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// The summary of `values`, which must not be empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Summary {
        let mut sorted: Vec<f64> = values.into_iter().collect();
        assert!(!sorted.is_empty(), "a statistic of no values");
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Summary { median, min: sorted[0], max: sorted[n - 1] }
    }
}

/// Wall time and peak memory of one command over its timed runs ([`super::harness::measure`]).
#[derive(Clone)]
pub struct ProcessStats {
    pub median_ms: f64,
    pub min_ms: f64,
    /// The highest peak RSS of any run, in MB (10^6 bytes).
    pub peak_mb: f64,
    pub samples_ms: Vec<f64>,
}

impl ProcessStats {
    pub fn of(samples: &[Sample]) -> ProcessStats {
        let samples_ms: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1000.0).collect();
        let time = Summary::of(samples_ms.iter().copied());
        let peak_kb = samples.iter().map(|s| s.max_rss_kb).max().unwrap_or(0);
        ProcessStats { median_ms: time.median, min_ms: time.min, peak_mb: peak_kb as f64 * 1024.0 / 1e6, samples_ms }
    }
}

/// `v` rounded to two decimals, for JSON reports.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `v` rounded to three decimals, for JSON reports.
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(Summary::of([3.0, 1.0, 2.0]), Summary { median: 2.0, min: 1.0, max: 3.0 });
        assert_eq!(Summary::of([4.0, 1.0, 2.0, 3.0]), Summary { median: 2.5, min: 1.0, max: 4.0 });
        assert_eq!(median(&[5.0]), 5.0);
        assert_eq!(median(&[2.0, 1.0]), 1.5);
    }

    #[test]
    fn process_stats_take_the_median_time_and_the_highest_peak() {
        let sample = |ms: u64, kb: u64| Sample { wall: Duration::from_millis(ms), max_rss_kb: kb };
        let stats = ProcessStats::of(&[sample(30, 1000), sample(10, 3000), sample(20, 2000), sample(40, 10)]);
        assert_eq!((stats.median_ms, stats.min_ms), (25.0, 10.0));
        assert_eq!(stats.peak_mb, 3000.0 * 1024.0 / 1e6);
        assert_eq!(stats.samples_ms, [30.0, 10.0, 20.0, 40.0]);
    }

    #[test]
    fn reports_round_half_away_from_zero() {
        assert_eq!(round2(1.005_1), 1.01);
        assert_eq!(round3(2.000_4), 2.0);
    }
}
