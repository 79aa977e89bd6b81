//! The manifest parser never panics, and what it accepts validates and
//! round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selfup_core::manifest::PluginManifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = PluginManifest::from_json(data) {
        assert!(manifest.validate().is_ok());
        let again = serde_json::to_vec(&manifest).expect("a parsed manifest serialises");
        let back = PluginManifest::from_json(&again).expect("a serialised manifest parses");
        assert_eq!(back, manifest);
    }
});
