#![no_main]
use frc0108::fuzzing::structured::{run, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Case| run(&case));
