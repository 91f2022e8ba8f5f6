# Pregon's commands. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# sqlx/apalis read DATABASE_URL at build time and break when it is set (docs/operations.md); Pregon uses PREGON_DATABASE_URL.
export SQLX_OFFLINE := "true"

# Start the service on the embedded default (SQLite under ./data, sandbox provider).
run:
    env -u DATABASE_URL cargo run --release

# Run every test: unit tests, the store conformance suite on SQLite and PostgreSQL, the HTTP and CLI tests.
# PostgreSQL must answer at PREGON_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
test:
    if cargo nextest --version >/dev/null 2>&1; then \
        env -u DATABASE_URL cargo nextest run --workspace --no-fail-fast; \
    else \
        env -u DATABASE_URL cargo test --workspace --no-fail-fast; \
    fi

# Needs `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver; or CHROME_BIN / CHROMEDRIVER);
# screenshots go to target/ui-screenshots/.
# The dashboard's browser test: its main flows in headless Chromium (crates/server/tests/ui.rs).
test-ui:
    if cargo nextest --version >/dev/null 2>&1; then \
        env -u DATABASE_URL cargo nextest run -p pregon --test ui --run-ignored ignored-only; \
    else \
        env -u DATABASE_URL cargo test -p pregon --test ui -- --ignored; \
    fi

# Every benchmark, then target/bench/summary.{md,json}. Release builds; a measurement to read, never a timed test.
# Takes about an hour on 2 cores (the 10,000,000-row runs dominate).
bench: bench-ingest bench-send bench-progress bench-workers bench-ingest-10m bench-summary

# The ingest scale run: a 10,000,000-row CSV on PostgreSQL beside `psql \copy` of the same rows;
# writes target/bench/ingest-10m.{md,json}.
bench-ingest-10m *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest -- --rows 10000000 --csv-only --backends postgres --name ingest-10m {{ARGS}}

# Three `pregon serve` worker processes sharing one 100,000-message campaign on PostgreSQL at 1,000 msg/s (no faults):
# throughput, the most in any second at the mock, duplicates; writes target/bench/workers.{md,json}.
bench-workers *ARGS:
    env -u DATABASE_URL cargo build --release -p pregon --bin pregon
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin chaos -- --calm --workers 3 --rate 1000 --concurrency 400 --latency-ms 200 {{ARGS}}

# Fault injection (docs/reliability.md): a 100,000-message campaign on PostgreSQL across 3 workers while one is
# SIGKILLed 10 times, PostgreSQL restarts once and the mock answers 429/5xx in bursts and drops connections; then the
# verdict (one terminal state each, nobody messaged twice, counters = recount); writes target/bench/chaos.{md,json}.
chaos *ARGS:
    env -u DATABASE_URL cargo build --release -p pregon --bin pregon
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin chaos -- {{ARGS}}

# One Markdown page and one JSON file of every benchmark report present under target/bench.
bench-summary:
    #!/usr/bin/env bash
    set -euo pipefail
    cd target/bench
    {
        echo "# Pregon benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD))"
        for name in ingest ingest-10m send progress workers chaos; do
            [ -f "$name.md" ] && { echo; cat "$name.md"; }
        done
    } > summary.md
    {
        echo "{"
        sep=""
        for name in ingest ingest-10m send progress workers chaos; do
            [ -f "$name.json" ] && { printf '%s"%s": ' "$sep" "$name"; cat "$name.json"; sep=","; }
        done
        echo "}"
    } > summary.json
    echo "written: target/bench/summary.md and summary.json"

# Generates a 1,000,000-row Chat-Tonic CSV (3 parameters), the same rows as JSON and 200,000 as XLSX; PostgreSQL at
# PREGON_TEST_POSTGRES_URL; extra flags pass through (`just bench-ingest --help`); writes target/bench/ingest.{md,json}.
# Ingest benchmark (DESIGN §8): rows/s and peak RSS on SQLite and PostgreSQL vs `psql \copy` and a bare INSERT.
bench-ingest *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest -- {{ARGS}}

# Send benchmark (DESIGN §8): one Meta account at 1,000 msg/s (concurrency 400) against the mock provider answering in
# 200 ms, 100,000 messages, on SQLite and PostgreSQL (PREGON_TEST_POSTGRES_URL), against a bare reqwest client with
# the same pacing; sustained msg/s, max in any second, start delay, statuses; writes target/bench/send.{md,json}.
bench-send *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-send -- {{ARGS}}

# Progress and webhooks (issue 5): 10,000,000 messages COPYed into a fresh PostgreSQL database
# (PREGON_TEST_POSTGRES_URL), then p50/p95/p99 of `GET /v1/campaigns/{id}` (target p99 < 50 ms) and of deep keyset
# message pages, and signed Meta status webhooks applied per second; `--messages 200000` for a quick run;
# writes target/bench/progress.{md,json}.
bench-progress *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-progress -- {{ARGS}}

# Installs cargo-fuzz if missing, seeds fuzz/corpus/ from fixtures/, and runs each target of fuzz/fuzz_targets in
# turn on stable Rust through RUSTC_BOOTSTRAP (cargo fuzz needs nightly flags), with AddressSanitizer
# (docs/reliability.md, "Fuzzing").
# Fuzz every target for SECONDS each; fails if one crashed (its input is then in fuzz/artifacts/<target>/).
fuzz SECONDS="30":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
    fuzz/seed.sh
    export RUSTC_BOOTSTRAP=1
    # Each run rewrites its input to a scratch file (the readers need a path); keep that off the disk when possible.
    if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ]; then export TMPDIR=/dev/shm; fi
    cd fuzz
    failed=()
    for target in $(cargo fuzz list); do
        echo "== $target: {{SECONDS}} s"
        # -timeout: a single input taking 20 s is a hang, reported as a crash.
        if ! cargo fuzz run "$target" -- -max_total_time={{SECONDS}} -timeout=20 -print_final_stats=1; then
            failed+=("$target")
        fi
    done
    rm -f "${TMPDIR:-/tmp}"/pregon-fuzz-*
    if [ ${#failed[@]} -gt 0 ]; then
        echo "crashed: ${failed[*]}; inputs in $PWD/artifacts/<target>/ (replay: cargo fuzz run <target> <file>)" >&2
        exit 1
    fi
    echo "no crash; the corpora grew in $PWD/corpus/"

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    env -u DATABASE_URL cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# What CI runs on a fresh machine (installs and starts PostgreSQL when missing).
ci:
    bash .ci/run
