//! The mock provider as a process (placeholder: being written).

fn main() {}
