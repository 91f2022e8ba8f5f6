#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from fixtures/ (the corpus is not committed; `just fuzz` runs this first). Idempotent:
# files are named after their source, so re-running rewrites the same seeds and leaves what the fuzzer found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/fuzz/corpus"
mkdir -p "$corpus"/{sniff_unwrap,rows,shorthand,webhooks}

# `with BYTE SRC DEST`: DEST is BYTE (octal, for printf) then SRC, the selector byte the target reads first.
with() { { printf "\\$1"; cat "$2"; } >"$3"; }

for f in "$root"/fixtures/files/*; do
    name=$(basename "$f")
    # sniff_unwrap: the upload as it is.
    cp "$f" "$corpus/sniff_unwrap/$name"
    # rows (see fuzz_targets/rows.rs for the selector bits): Chat-Tonic with sheet `campaign` and default
    # language, Chat-Tonic reading the first sheet, and Jelou.
    with 006 "$f" "$corpus/rows/chat-tonic.$name"
    with 000 "$f" "$corpus/rows/first-sheet.$name"
    with 001 "$f" "$corpus/rows/jelou.$name"
done

# webhooks: the selector is the provider's place in fuzz_targets/webhooks.rs.
selector=0
for provider in meta 360dialog gupshup infobip clickatell; do
    for f in "$root/fixtures/webhooks/$provider"/*.json; do
        with "00$selector" "$f" "$corpus/webhooks/$provider.$(basename "$f")"
    done
    selector=$((selector + 1))
done
# 6: Meta's signature (`header\nbody`), signed with the target's secret; 7: the subscription handshake.
body="$root/fixtures/webhooks/meta/sent.json"
signature=$(openssl dgst -sha256 -hmac app-secret -hex <"$body" | sed 's/.*= //')
{ printf '\006sha256=%s\n' "$signature"; cat "$body"; } >"$corpus/webhooks/signature.sent.json"
printf '\007hub.mode=subscribe&hub.verify_token=verify-token&hub.challenge=1158201444' >"$corpus/webhooks/handshake"

# shorthand: there are no fixture files; these are the module documentation's examples (crates/core/src/shorthand.rs).
printf '%s' '&(( namespace=[[ns]] template=[[order_update]] fallback=[[Your order shipped]] language=[[en_US]]
    header_document=[[https://example.com/invoice.pdf]] header_filename=[[Invoice]]
    body_text=[[Bob]] body_text=[[#1234]]
    button_index=[[0]] button_payload=[[TRACK]] button_index=[[1]] button_url=[[orders/1234]] ))&' \
    >"$corpus/shorthand/doc-example"
printf '%s' '&(( template=[[hello]] language=[[en-US]] header_text=[[[x]]] body_text=[[ a ]] ))&' \
    >"$corpus/shorthand/header-text"
printf '%s' '&(( template=[[t]] language=[[es]] header_image=[[http://e.com/a.png]] button_index=[[9]] body_text=[[b]] button_payload=[[p]] ))&' \
    >"$corpus/shorthand/image-button"
printf '%s' '&[Your order shipped](ns, order_update, Bob, #1234)' >"$corpus/shorthand/old-syntax"

echo "seeded $(find "$corpus" -type f | wc -l) files under $corpus"
