#!/usr/bin/env bash
# Enforces the layout invariants of docs/ARCHITECTURE.md on the real dependency graph and
# the sources: the pure crates pull in no storage, async runtime, network or HTTP crate
# and call no clock, file, network, thread, process or environment API; only coop-store
# may depend on sled; only the adapters (coop-node, coop-console) on HTTP crates. It fails closed: a crate it cannot
# inspect is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

# getrandom is here too: randomness comes into the pure crates as an argument.
# serde_json and schemars are here because the pure crates know no JSON: JSON forms and
# schemas are coop-wire's (invariant 2).
forbidden_pure='^(sled|tokio|axum|hyper|reqwest|tower|tower-http|mio|rustls|async-std|smol|libc|nix|tracing-subscriber|getrandom|rayon|crossbeam-channel|serde_json|schemars|schemars_derive)$'
fail=0

deps_of() { # normal (non-dev, non-build) dependencies of a package, one name a line
  local out
  if ! out=$(cargo tree --locked -p "$1" -e normal --prefix none --format '{p}'); then
    echo "FAIL: cannot read the dependency tree of $1" >&2
    return 1
  fi
  printf '%s\n' "$out" | awk '{print $1}' | sort -u
}

for pkg in coop-core coop-treaty; do
  if ! deps=$(deps_of "$pkg"); then
    fail=1
    continue
  fi
  bad=$(printf '%s\n' "$deps" | grep -E "$forbidden_pure" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $pkg must stay pure but depends on: $bad"
    fail=1
  else
    echo "ok: $pkg has no I/O, runtime, storage or JSON dependency"
  fi
done

# The pure crates know no JSON: no JSON library or schema derive in their sources either
# (a test may: tests live under tests/ or in the cfg(test) module that ends a file).
json_src=$(for f in $(find crates/core/src crates/treaty/src -name '*.rs'); do
  # Up to the file's test module (they come last, by the code's convention).
  awk -v f="$f" '/^#\[cfg\(test\)\]/ { exit } /JsonSchema|schemars|serde_json/ { print f ":" FNR ": " $0 }' "$f"
done)
if [ -n "$json_src" ]; then
  echo "FAIL: coop-core and coop-treaty must not name a JSON library or schema (coop-wire does):"
  echo "$json_src"
  fail=1
else
  echo "ok: coop-core and coop-treaty name no JSON library or schema"
fi

# The pure crates' sources call no clock, file, network, thread, process, environment or
# OS randomness API (invariant 1): the dependency graph cannot see std.
forbidden_calls='SystemTime|Instant::|std::fs|std::net|std::thread|std::process|std::env|std::io::stdin|getrandom|OsRng|thread::spawn|File::(open|create)'
calls=$(grep -rnE "$forbidden_calls" crates/core/src crates/treaty/src || true)
if [ -n "$calls" ]; then
  echo "FAIL: coop-core and coop-treaty must not read a clock, touch files or the network, or spawn:"
  echo "$calls"
  fail=1
else
  echo "ok: coop-core and coop-treaty call no clock, file, network, thread or environment API"
fi

# The auditor's verifier: core and treaty, and threads for signatures; never the store,
# the engine, the node, a runtime or a network stack.
forbidden_verify='^(coop-store|coop-ledger|coop-node|coop-cli|sled|tokio|axum|hyper|reqwest|tower|tower-http|mio|rustls|async-std|smol)$'
if ! verify_deps=$(deps_of coop-verify); then
  fail=1
  verify_deps=""
fi
bad=$(printf '%s\n' "$verify_deps" | grep -E "$forbidden_verify" || true)
if [ -n "$bad" ]; then
  echo "FAIL: coop-verify must not depend on: $bad"
  fail=1
else
  echo "ok: coop-verify depends on no store, engine, node, runtime or network crate"
fi

# Direct dependencies: only coop-store names sled itself.
direct_sled=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] != "coop-store" and any(d["name"] == "sled" for d in p["dependencies"]):
        print(p["name"])
')
if [ -n "$direct_sled" ]; then
  echo "FAIL: only coop-store may depend on sled, but so do: $direct_sled"
  fail=1
else
  echo "ok: only coop-store depends on sled"
fi
# Direct (non-dev) dependencies on HTTP crates: only the adapters, coop-node and
# coop-console (and the benchmarks).
direct_http=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
http = {"axum", "axum-server", "hyper", "reqwest", "tower-http"}
for p in json.load(sys.stdin)["packages"]:
    if p["name"] in ("coop-node", "coop-console", "coop-bench", "coop-fuzz"):
        continue
    bad = [d["name"] for d in p["dependencies"] if d["name"] in http and d.get("kind") is None]
    if bad:
        print(p["name"], ",".join(bad))
')
if [ -n "$direct_http" ]; then
  echo "FAIL: only coop-node and coop-console may depend on HTTP crates, but: $direct_http"
  fail=1
else
  echo "ok: only coop-node and coop-console depend on HTTP crates"
fi
exit $fail
