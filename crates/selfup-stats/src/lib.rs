//! Statistics for selfup (being written).
