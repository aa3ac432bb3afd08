#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| frc0108::fuzzing::certificate_view(data));
