#!/usr/bin/env bash
# Runs `mlhub run` as a user runs it, on cases of tests/golden/pipelines/*.jsonl. The expected
# lines are those cases' "output" (transformers 4.57.3, tools/reference/pipeline_goldens.py) as
#   json.dumps(case["output"], ensure_ascii=False, separators=(",", ":"))
# Floats are compared after rounding both sides to 3 decimals (the parity unit test checks them
# to 1e-4); everything else — labels, words, answers, offsets, key order — must be identical.
set -u
mlhub=$1
models=$2/tests/golden/pipelines/models
fail=0

round() {  # rounds every decimal number in stdin to 3 decimals
  awk '{ out = ""; s = $0
         while (match(s, /-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?|-?[0-9]+[eE][-+]?[0-9]+/)) {
           out = out substr(s, 1, RSTART - 1) sprintf("%.3f", substr(s, RSTART, RLENGTH) + 0)
           s = substr(s, RSTART + RLENGTH)
         }
         print out s }'
}

check() {  # name, expected, actual
  local want got
  want=$(printf '%s\n' "$2" | round)
  got=$(printf '%s\n' "$3" | round)
  if [ "$want" != "$got" ]; then
    echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
  else
    echo "ok   $1"
  fi
}

# Raw lines: one input a line; the second line asks for all labels (top_k=null) via --param.
check "text-classification raw lines" \
'[{"label":"NEGATIVE","score":0.7445233464241028}]
[{"label":"NEGATIVE","score":0.7445233464241028}]' \
"$(printf 'Hugging Face is a company based in New York City.\nHugging Face is a company based in New York City.\n' |
   "$mlhub" run text-classification --model "$models/bert-tiny-sentiment")"

check "text-classification top_k=null" \
'[{"label":"NEGATIVE","score":0.5365397930145264},{"label":"POSITIVE","score":0.3977048397064209},{"label":"NEUTRAL","score":0.06575537472963333}]' \
"$(echo 'My name is Wolfgang and I live in Berlin.' |
   "$mlhub" run sentiment-analysis --model "$models/bert-tiny-sentiment" --param top_k=null)"

check "ner aggregation first (string param)" \
'[{"entity_group":"PER","score":0.38526076078414917,"word":"my","start":0,"end":2},{"entity_group":"MISC","score":0.84659743309021,"word":"name","start":3,"end":7},{"entity_group":"PER","score":0.6812528967857361,"word":"is","start":8,"end":10},{"entity_group":"LOC","score":0.4049639403820038,"word":"wolfgang","start":11,"end":19},{"entity_group":"PER","score":0.5833055973052979,"word":"and","start":20,"end":23},{"entity_group":"MISC","score":0.5122859477996826,"word":"i live","start":24,"end":30},{"entity_group":"PER","score":0.4005875289440155,"word":"in berlin","start":31,"end":40},{"entity_group":"PER","score":0.3312247395515442,"word":".","start":40,"end":41}]' \
"$(echo 'My name is Wolfgang and I live in Berlin.' |
   "$mlhub" run ner --model "$models/bert-tiny-ner" --init aggregation_strategy=first)"

check "question-answering jsonl top_k=3" \
'[{"score":0.08896582573652267,"start":44,"end":51,"answer":"work as"},{"score":0.030469246208667755,"start":11,"end":51,"answer":"Wolfgang and I live in Berlin. I work as"},{"score":0.025216663256287575,"start":11,"end":23,"answer":"Wolfgang and"}]' \
"$(echo '{"question": "Where does Wolfgang live?", "context": "My name is Wolfgang and I live in Berlin. I work as a carpenter."}' |
   "$mlhub" run question-answering --model "$models/bert-tiny-qa" --jsonl --param top_k=3)"

check "fill-mask targets (JSON list param)" \
'[{"score":0.00012847316975239664,"token":454,"token_str":"country","sequence":"she is a very country person."},{"score":4.9871421651914716e-05,"token":994,"token_str":"capital","sequence":"she is a very capital person."}]' \
"$(echo 'She is a very [MASK] person.' |
   "$mlhub" run fill-mask --model "$models/bert-tiny-mlm" --param 'targets=["city","capital","house","country"]' --param top_k=2)"

check "zero-shot comma-separated labels" \
'{"sequence":"The price rose by 3.5% to $1,249.99 on Monday.","labels":["economy","travel"],"scores":[0.8787586688995361,0.12124134600162506]}' \
"$(echo 'The price rose by 3.5% to $1,249.99 on Monday.' |
   "$mlhub" run zero-shot-classification --model "$models/bert-tiny-nli" --param 'candidate_labels=economy, travel')"

# A bad line gives an error naming its line number, later lines still run, exit status 1.
out=$(printf '{"question": "Where?"}\nnot json\n{"question": "Where does Wolfgang live?", "context": "My name is Wolfgang and I live in Berlin. I work as a carpenter."}\n' |
      "$mlhub" run question-answering --model "$models/bert-tiny-qa" --jsonl 2>/dev/null); rc=$?
check "bad lines exit status" 1 "$rc"
check "bad lines name their line" \
'{"error":"line 1: You need to provide a dictionary with keys {question:..., context:...}"}
{"error":"line 2: not a JSON value"}
{"score":0.08896582573652267,"start":44,"end":51,"answer":"work as"}' "$out"

"$mlhub" run text-classification --model /nonexistent </dev/null 2>/dev/null; rc=$?
check "missing model exit status" 2 "$rc"
"$mlhub" run no-such-task --model "$models/bert-tiny-sentiment" </dev/null 2>/dev/null; rc=$?
check "unknown task exit status" 2 "$rc"
"$mlhub" run text-classification --model "$models/bert-tiny-sentiment" --param oops </dev/null 2>/dev/null; rc=$?
check "bad --param exit status" 2 "$rc"
# Summarization with a BART checkpoint assembled as the Hub serves it (golden weights and
# configs of tests/golden/seq2seq/bart, roberta-base's tokenizer.json from ../shared): the
# recorded greedy call of transformers' pipeline, one input a line.
shared=${MLHUB_SHARED_DIR:-$2/../shared}
bart=$(mktemp -d)
trap 'rm -rf "$bart"' EXIT
for f in config.json generation_config.json model.safetensors tokenizer_config.json special_tokens_map.json; do
  ln -s "$2/tests/golden/seq2seq/bart/$f" "$bart/$f"
done
ln -s "$shared/data/tokenizers/roberta-base/tokenizer.json" "$bart/tokenizer.json"
call=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))
p=next(p for p in c["pipelines"] if p["task"]=="summarization")["calls"][1]
assert p["parameters"]=={"max_new_tokens":16,"num_beams":1}
print("\n".join(p["inputs"])); print("===")
print("\n".join(json.dumps([o],ensure_ascii=False,separators=(",",":")) for o in p["output"]))' \
  "$2/tests/golden/seq2seq/bart/case.json")
check "summarization (bart, greedy)" "${call#*===$'\n'}" \
"$(printf '%s\n' "${call%%$'\n'===*}" |
   "$mlhub" run summarization --model "$bart" --param max_new_tokens=16 --param num_beams=1)"

exit $fail
