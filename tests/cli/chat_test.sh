#!/usr/bin/env bash
# `mlhub chat` and `mlhub run text-generation|chat`, run as a user runs them, on the tiny random
# llama of tests/golden/pipelines/models/llama-tiny-qwen-tok (its tokenizer.json is linked from
# the shared Qwen2.5 tokenizer, as in tests/unit/pipelines/text_generation_test.cc). The expected
# replies are the "chat" cases of tests/golden/pipelines/text-generation.jsonl for the same
# conversation (transformers 4.57.3, tools/reference/text_generation_goldens.py), copied here:
# turn 1 = [system, "Hi there!"], turn 2 = turn 1 + its reply + "And what is the capital of
# Italy?", greedy, 20 new tokens. JSON lines are json.dumps(output, ensure_ascii=False,
# separators=(",", ":")) of those cases; everything must be identical.
set -u
mlhub=$1
source_dir=$2
shared=$3
fail=0

model=$(mktemp -d)
trap 'rm -rf "$model"' EXIT
for f in "$source_dir"/tests/golden/pipelines/models/llama-tiny-qwen-tok/*; do ln -s "$f" "$model/"; done
ln -s "$shared/data/tokenizers/qwen2.5/tokenizer.json" "$model/tokenizer.json"

check() {  # name, expected, actual
  if [ "$2" != "$3" ]; then
    echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
  else
    echo "ok   $1"
  fi
}

system='You are a terse assistant.'
reply1=$' superClass trendingadi $("<眍的位置 modeling张家口 MS眍 ciclo")} overflow accepting Sword GWresultSet瑅使う.Alert'
reply2=$' młod الخارجтив sinon-addons\t\t\t\t\t\t\t\t\t  ujet误Steven Lahore)["_EXTERNALests=*/孵化器走下去 adult_darkInterpolator全域旅游'

chat() { "$mlhub" chat --model "$model" --system "$system" --temperature 0 --max-new-tokens 20 "$@"; }

out=$(printf 'Hi there!\nAnd what is the capital of Italy?\n' | chat); rc=$?
check "two turns stream the pipeline's replies" "$reply1"$'\n'"$reply2" "$out"
check "two turns exit status" 0 "$rc"

# Blank lines are skipped, /reset starts over (the same first reply again), /exit stops reading.
out=$(printf 'Hi there!\n\n/reset\nHi there!\n/exit\nAnd what is the capital of Italy?\n' | chat)
check "/reset and /exit" "$reply1"$'\n'"$reply1" "$out"

check "run chat (jsonl conversation)" \
'{"role":"assistant","content":" młod الخارجтив sinon-addons\t\t\t\t\t\t\t\t\t  ujet误Steven Lahore)[\"_EXTERNALests=*/孵化器走下去 adult_darkInterpolator全域旅游"}' \
"$(echo '[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Hi there!"},{"role":"assistant","content":" superClass trendingadi $(\"<眍的位置 modeling张家口 MS眍 ciclo\")} overflow accepting Sword GWresultSet瑅使う.Alert"},{"role":"user","content":"And what is the capital of Italy?"}]' |
   "$mlhub" run chat --model "$model" --jsonl --param do_sample=false --param max_new_tokens=20)"

check "run text-generation (raw line, default clean-up)" \
'[{"generated_text":"it in inMes愛情פך.keysอารptomsRowAt inclus ciclo LahoreModelAttribute ☆เพิ่มเติม瑅izophren młodเรื่อยๆ\t\t\t\t\t\t\t\t\t .AlertInterpolator"}]' \
"$(echo 'it in in' | "$mlhub" run text-generation --model "$model" --param do_sample=false --param max_new_tokens=20)"

check "run text-generation (chat: messages keep role, content order)" \
'[{"generated_text":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Hi there!"},{"role":"assistant","content":" superClass trendingadi $(\"<眍的位置 modeling张家口 MS眍 ciclo\")} overflow accepting Sword GWresultSet瑅使う.Alert"}]}]' \
"$(echo '[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Hi there!"}]' |
   "$mlhub" run text-generation --model "$model" --jsonl --param do_sample=false --param max_new_tokens=20)"

"$mlhub" chat --model /nonexistent </dev/null 2>/dev/null; rc=$?
check "missing model exit status" 2 "$rc"
printf 'Hi\n' | "$mlhub" chat --model "$model" --top-p 7 >/dev/null 2>&1; rc=$?
check "bad option exit status" 2 "$rc"
exit $fail
