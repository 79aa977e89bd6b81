//! The configuration parser never panics, its errors always name a
//! location, and an accepted configuration round-trips through YAML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match selfup_core::config::parse("fuzz.yaml", text) {
        Ok(config) => {
            if let Ok(yaml) = config.to_yaml() {
                let back =
                    selfup_core::config::parse("again.yaml", &yaml).expect("emitted YAML parses");
                assert_eq!(back, config);
            }
        }
        Err(errors) => assert!(errors.to_string().starts_with("fuzz.yaml:")),
    }
});
