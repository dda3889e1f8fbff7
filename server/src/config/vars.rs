//! Reading `AXE_*` variables through a lookup function, each kind of value with one parser
//! whose error names the variable and what a valid value looks like.

use crate::error::{Error, Result};
use std::time::Duration;

/// The variables, by a lookup function (the process environment, or a map in tests).
pub struct Vars<F>(pub F);

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        name,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    /// The variable's value; unset and empty are the same.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    /// A whole number greater than 0.
    pub fn count(&self, name: &'static str, default: usize) -> Result<usize> {
        match self.text(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(value) if value > 0 => Ok(value),
                _ => Err(invalid(
                    name,
                    &raw,
                    "expected a whole number greater than 0",
                )),
            },
        }
    }

    /// A whole number greater than 0, at most `u32::MAX`.
    pub fn count_u32(&self, name: &'static str, default: u32) -> Result<u32> {
        let value = self.count(name, default as usize)?;
        u32::try_from(value)
            .map_err(|_| invalid(name, &value.to_string(), "the number is too large"))
    }

    /// Whole seconds greater than 0.
    pub fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration> {
        let default_secs = usize::try_from(default.as_secs()).unwrap_or(usize::MAX);
        Ok(Duration::from_secs(self.count(name, default_secs)? as u64))
    }

    /// Whole seconds, 0 allowed.
    pub fn seconds_or_zero(&self, name: &'static str, default: Duration) -> Result<Duration> {
        self.whole(name, default, Duration::from_secs, "seconds")
    }

    /// Whole milliseconds, 0 allowed.
    pub fn millis(&self, name: &'static str, default: Duration) -> Result<Duration> {
        self.whole(name, default, Duration::from_millis, "milliseconds")
    }

    /// A whole number of `unit`s, 0 allowed.
    fn whole(
        &self,
        name: &'static str,
        default: Duration,
        of: fn(u64) -> Duration,
        unit: &str,
    ) -> Result<Duration> {
        match self.text(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .map(of)
                .map_err(|_| invalid(name, &raw, format!("expected a whole number of {unit}"))),
        }
    }

    /// A value parsed by `parse`, whose error says what was expected.
    pub fn parsed<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        match self.text(name) {
            None => Ok(default),
            Some(raw) => parse(raw.trim()).map_err(|reason| invalid(name, &raw, reason)),
        }
    }
}
