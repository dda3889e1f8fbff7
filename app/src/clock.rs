//! The wall clock in milliseconds, in the browser and in native tests alike (a leaf module:
//! the store, the telemetry and the status line all read it).

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> f64 {
    #[cfg(feature = "browser")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "browser"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64)
    }
}
