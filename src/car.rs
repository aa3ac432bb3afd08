//! CAR (placeholder).
