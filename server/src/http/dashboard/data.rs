//! The dashboard's numbers: the database's sums per time bucket (finished minutes and
//! telemetry), with the minute in progress added from memory, turned into the plotted lines.

use crate::metrics::minutes::{quantile, Minute, ACK_MS, FIRST_TOKEN_MS};
use std::collections::{BTreeMap, BTreeSet};

/// A time range the dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last hour, a point per minute.
    Hour,
    /// The last day, a point per quarter hour.
    Day,
}

impl Range {
    /// `?range=day` or the default, the hour.
    pub fn named(name: Option<&str>) -> Self {
        match name {
            Some("day") => Self::Day,
            _ => Self::Hour,
        }
    }

    /// How far back, in milliseconds.
    pub fn span_ms(self) -> i64 {
        match self {
            Self::Hour => 3_600_000,
            Self::Day => 86_400_000,
        }
    }

    /// One point's width, in milliseconds.
    pub fn bucket_ms(self) -> i64 {
        match self {
            Self::Hour => 60_000,
            Self::Day => 900_000,
        }
    }
}

/// One plotted line: its name and `(bucket start, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// What it shows.
    pub name: String,
    /// Its points, oldest first.
    pub points: Vec<(i64, f64)>,
}

/// One plot: a title, the unit of its values, its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// The plot's title.
    pub title: &'static str,
    /// The values' unit.
    pub unit: &'static str,
    /// Its lines.
    pub lines: Vec<Line>,
}

/// Sums per bucket and series: `bucket → series → (sum, max)`.
#[derive(Debug, Default)]
pub struct Sums(BTreeMap<i64, BTreeMap<String, (i64, i64)>>);

impl Sums {
    /// The database's rows, `(bucket, series, sum, max)`.
    pub fn from_rows(rows: Vec<(i64, String, i64, i64)>) -> Self {
        let mut sums = Self::default();
        for (bucket, series, sum, max) in rows {
            sums.0.entry(bucket).or_default().insert(series, (sum, max));
        }
        sums
    }

    /// Adds the minute in progress (not in the database yet) to its bucket.
    pub fn add_minute(&mut self, minute: &Minute, bucket_ms: i64) {
        let bucket = minute.start - minute.start.rem_euclid(bucket_ms);
        let series = self.0.entry(bucket).or_default();
        for (name, value) in minute.rows() {
            let entry = series.entry(name).or_insert((0, value));
            entry.0 += value;
            entry.1 = entry.1.max(value);
        }
    }

    fn value(&self, bucket: i64, series: &str) -> Option<(i64, i64)> {
        self.0.get(&bucket).and_then(|s| s.get(series)).copied()
    }

    fn histogram(&self, bucket: i64, prefix: &str, bounds: &[u64]) -> Vec<u64> {
        let mut counts = vec![0u64; bounds.len() + 1];
        for (index, count) in counts.iter_mut().enumerate() {
            let bound = bounds.get(index).map_or("inf".to_owned(), u64::to_string);
            if let Some((sum, _)) = self.value(bucket, &format!("{prefix}:{bound}")) {
                *count = sum.max(0) as u64;
            }
        }
        counts
    }
}

/// The buckets of `range` ending at `now`, oldest first.
pub fn buckets(range: Range, now: i64) -> Vec<i64> {
    let width = range.bucket_ms();
    let last = now - now.rem_euclid(width);
    let count = range.span_ms() / width;
    (0..count).rev().map(|back| last - back * width).collect()
}

/// The dashboard's plots over `buckets`, from `sums` and the telemetry counts
/// `(bucket, name, count)`.
pub fn plots(
    range: Range,
    buckets: &[i64],
    sums: &Sums,
    telemetry: &[(i64, String, i64)],
) -> Vec<Plot> {
    // Counts are shown per minute whatever the bucket's width.
    let per_minute = range.bucket_ms() as f64 / 60_000.0;
    let count_line = |name: &str, series: &str| Line {
        name: name.to_owned(),
        points: buckets
            .iter()
            .map(|b| {
                (
                    *b,
                    sums.value(*b, series).map_or(0.0, |(sum, _)| sum as f64) / per_minute,
                )
            })
            .collect(),
    };
    let quantile_line = |name: &str, prefix: &str, bounds: &[u64], q: f64| Line {
        name: name.to_owned(),
        points: buckets
            .iter()
            .filter_map(|b| {
                quantile(bounds, &sums.histogram(*b, prefix, bounds), q).map(|v| (*b, v))
            })
            .collect(),
    };
    let codes: BTreeSet<String> = sums
        .0
        .values()
        .flat_map(|series| series.keys())
        .filter_map(|name| name.strip_prefix("close:").map(str::to_owned))
        .collect();
    let names: BTreeSet<&str> = telemetry.iter().map(|(_, name, _)| name.as_str()).collect();
    vec![
        Plot {
            title: "Open connections",
            unit: "connections",
            lines: vec![Line {
                name: "open".into(),
                points: buckets
                    .iter()
                    .map(|b| {
                        (
                            *b,
                            sums.value(*b, "open_connections")
                                .map_or(0.0, |(_, max)| max as f64),
                        )
                    })
                    .collect(),
            }],
        },
        Plot {
            title: "Connects and reconnects",
            unit: "per minute",
            lines: vec![
                count_line("connects", "connects"),
                count_line("reconnects", "reconnects"),
            ],
        },
        Plot {
            title: "Closes by code",
            unit: "per minute",
            lines: codes
                .iter()
                .map(|code| count_line(code, &format!("close:{code}")))
                .collect(),
        },
        Plot {
            title: "Ack latency",
            unit: "ms",
            lines: vec![
                quantile_line("p50", "ack_ms", ACK_MS, 0.50),
                quantile_line("p95", "ack_ms", ACK_MS, 0.95),
                quantile_line("p99", "ack_ms", ACK_MS, 0.99),
            ],
        },
        Plot {
            title: "Model first-token latency",
            unit: "ms",
            lines: vec![
                quantile_line("p50", "first_token_ms", FIRST_TOKEN_MS, 0.50),
                quantile_line("p95", "first_token_ms", FIRST_TOKEN_MS, 0.95),
            ],
        },
        Plot {
            title: "Rate-limit refusals",
            unit: "per minute",
            lines: vec![count_line("refused", "rate_limited")],
        },
        Plot {
            title: "Telemetry events",
            unit: "per minute",
            lines: names
                .iter()
                .map(|name| Line {
                    name: (*name).to_owned(),
                    points: buckets
                        .iter()
                        .map(|b| {
                            let count = telemetry
                                .iter()
                                .filter(|(bucket, n, _)| bucket == b && n == name)
                                .map(|(_, _, c)| *c)
                                .sum::<i64>();
                            (*b, count as f64 / per_minute)
                        })
                        .collect(),
                })
                .collect(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_become_per_minute_lines_and_latency_quantiles() {
        let rows = vec![
            (60_000, "connects".to_owned(), 6, 6),
            (60_000, "reconnects".to_owned(), 2, 2),
            (60_000, "close:4001".to_owned(), 1, 1),
            (60_000, "ack_ms:1".to_owned(), 99, 99),
            (60_000, "ack_ms:inf".to_owned(), 1, 1),
        ];
        let mut sums = Sums::from_rows(rows);
        let mut current = Minute {
            start: 120_000,
            connects: 3,
            ack_ms: vec![0; ACK_MS.len() + 1],
            first_token_ms: vec![0; FIRST_TOKEN_MS.len() + 1],
            open: 2,
            ..Minute::default()
        };
        current.ack_ms[0] = 1;
        sums.add_minute(&current, 60_000);
        let buckets = vec![60_000, 120_000];
        let plots = plots(
            Range::Hour,
            &buckets,
            &sums,
            &[(120_000, "widget_opened".into(), 4)],
        );
        let connects = &plots[1].lines[0];
        assert_eq!(connects.points, vec![(60_000, 6.0), (120_000, 3.0)]);
        assert_eq!(plots[2].lines[0].name, "4001");
        let p99 = &plots[3].lines[2];
        assert_eq!(p99.points[0], (60_000, 1.0), "99 of 100 within 1 ms");
        assert_eq!(plots[0].lines[0].points[1], (120_000, 2.0));
        assert_eq!(plots[6].lines[0].points[1], (120_000, 4.0));
    }

    #[test]
    fn an_hour_has_sixty_minute_buckets_and_a_day_ninety_six() {
        let now = 10 * 86_400_000 + 123_456;
        let hour = buckets(Range::Hour, now);
        assert_eq!(hour.len(), 60);
        assert_eq!(*hour.last().unwrap(), now - now % 60_000);
        assert_eq!(buckets(Range::Day, now).len(), 96);
    }
}
