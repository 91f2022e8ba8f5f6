//! The store conformance suite, once per backend: `sqlite::…` and `postgres::…` in the test output.

#![allow(clippy::unwrap_used)]

mod sqlite {
    pregon_store::conformance_suite!(pregon_store::Backend::Sqlite);
}

mod postgres {
    pregon_store::conformance_suite!(pregon_store::Backend::Postgres);
}
