#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time and prints a summary.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS_PER_TARGET=60] [TARGET...]
#
# BUILD_DIR is configured with CC=clang-14 CXX=clang++-14 -DMLHUB_FUZZ=ON and built with
# `ninja -C BUILD_DIR fuzzers`. Each target first replays the reproducers of known crashes in
# tests/fuzz/crashes/<target>/ (regressions), then fuzzes from the seeds of
# tests/fuzz/corpus/<target>/ into BUILD_DIR/fuzz/corpus/<target>/ (the committed seeds are
# never written). New crashes, timeouts and OOMs are saved under BUILD_DIR/fuzz/artifacts/; copy
# the interesting ones to tests/fuzz/crashes/<target>/. Exits 1 when any target failed.
set -uo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,11p' "$0"
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
SECONDS_PER_TARGET=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
HERE=$(cd "$(dirname "$0")" && pwd)
TARGETS=("$@")
if [[ ${#TARGETS[@]} -eq 0 ]]; then
  TARGETS=(fuzz_tokenizer_json fuzz_encode fuzz_sentencepiece_model fuzz_safetensors fuzz_torch_pickle fuzz_gguf fuzz_lfs_pointer fuzz_hub_request fuzz_chat_template fuzz_inference_request)
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export MLHUB_LOG=${MLHUB_LOG:-off}  # the loaders warn on every odd input
export MLHUB_SHARED_DIR=${MLHUB_SHARED_DIR:-$(cd "$HERE/../../../shared" 2>/dev/null && pwd)}

declare -A MAX_LEN=([fuzz_tokenizer_json]=16384 [fuzz_encode]=4096 [fuzz_sentencepiece_model]=16384 [fuzz_lfs_pointer]=2048 [fuzz_gguf]=8192 [fuzz_chat_template]=8192 [fuzz_inference_request]=4096)
declare -A DICT=([fuzz_tokenizer_json]="$HERE/tokenizer_json.dict" [fuzz_chat_template]="$HERE/chat_template.dict")

failed=0
summary=()
for target in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/tests/fuzz/$target"
  if [[ ! -x "$bin" ]]; then
    summary+=("$target: SKIPPED (not built: $bin)")
    continue
  fi
  log="$BUILD_DIR/fuzz/logs/$target.log"
  corpus="$BUILD_DIR/fuzz/corpus/$target"
  artifacts="$BUILD_DIR/fuzz/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  : > "$log"

  # 1. Regressions: known crash reproducers must not crash any more.
  regressions=0
  if compgen -G "$HERE/crashes/$target/*" > /dev/null; then
    for repro in "$HERE/crashes/$target"/*; do
      [[ "$repro" == *.md || "$repro" == *.txt ]] && continue
      if ! timeout 120 "$bin" -runs=1 "$repro" >> "$log" 2>&1; then
        regressions=$((regressions + 1))
        echo "regression: $repro" >> "$log"
      fi
    done
  fi

  # 2. Fuzzing.
  extra=()
  [[ -n "${DICT[$target]:-}" ]] && extra+=("-dict=${DICT[$target]}")
  start=$(date +%s)
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len="${MAX_LEN[$target]:-4096}" \
    -timeout=30 -rss_limit_mb=4096 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${extra[@]}" "$corpus" "$HERE/corpus/$target" >> "$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  found=$(ls -1 "$artifacts" 2>/dev/null | wc -l)
  status="ok"
  if [[ $rc -ne 0 ]]; then
    status="FAILED (exit $rc; $(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|ERROR: libFuzzer: [a-z-]+|fuzz invariant broken: .*|runtime error: .*' "$log" | head -1))"
    failed=1
  fi
  if [[ $regressions -ne 0 ]]; then
    status="$status; $regressions known reproducer(s) still fail"
    failed=1
  fi
  summary+=("$target: $status; ${elapsed}s, ${execs:-?} execs, cov ${cov:-?}, artifacts $found in $artifacts (log $log)")
done

echo "== fuzz summary ($SECONDS_PER_TARGET s per target) =="
printf '%s\n' "${summary[@]}"
exit $failed
