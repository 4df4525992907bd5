#!/usr/bin/env bash
# Runs `mlhub tokenize` on a few inputs and compares its stdout with the Python reference:
#   from tokenizers import Tokenizer  # 0.22.2
#   e = Tokenizer.from_file(".../bert-base-uncased/tokenizer.json").encode("Hello world")
#   json.dumps({"ids": e.ids, "tokens": e.tokens, "offsets": e.offsets}, ensure_ascii=False, separators=(",", ":"))
set -u
mlhub=$1
dir=$2
fail=0

check() {  # name, expected, actual
  if [ "$2" != "$3" ]; then
    echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
  else
    echo "ok   $1"
  fi
}

bert=$dir/bert-base-uncased
check "raw lines" \
'{"ids":[101,7592,2088,102],"tokens":["[CLS]","hello","world","[SEP]"],"offsets":[[0,0],[0,5],[6,11],[0,0]]}
{"ids":[101,15743,7668,102],"tokens":["[CLS]","naive","cafe","[SEP]"],"offsets":[[0,0],[0,5],[6,10],[0,0]]}' \
"$(printf 'Hello world\nnaïve café\n' | "$mlhub" tokenize "$bert")"

check "jsonl pair" \
'{"ids":[101,2129,2214,2024,2017,1029,102,1045,2572,1020,1012,102],"tokens":["[CLS]","how","old","are","you","?","[SEP]","i","am","6",".","[SEP]"],"offsets":[[0,0],[0,3],[4,7],[8,11],[12,15],[15,16],[0,0],[0,1],[2,4],[5,6],[6,7],[0,0]]}' \
"$(echo '["How old are you?", "I am 6."]' | "$mlhub" tokenize "$bert" --jsonl --pair)"

check "byte offsets, no special tokens" \
'{"ids":[15743,7668],"tokens":["naive","cafe"],"offsets":[[0,6],[7,12]]}' \
"$(echo 'naïve café' | "$mlhub" tokenize "$bert/tokenizer.json" --byte-offsets --add-special-tokens=false)"

# A JSON string holding a newline: "naïve\nline" with GPT-2.
check "jsonl with newline (gpt2)" \
'{"ids":[2616,38776,198,1370],"tokens":["na","Ã¯ve","Ċ","line"],"offsets":[[0,2],[2,5],[5,6],[6,10]]}' \
"$(echo '"naïve\nline"' | "$mlhub" tokenize "$dir/gpt2" --jsonl)"

# decode: json.dumps(t.decode(ids)); an incomplete UTF-8 sequence becomes U+FFFD.
check "decode (gpt2)" '"nET�ve\nline"' "$(echo '[77,2767,138,303,198,1370]' | "$mlhub" tokenize "$dir/gpt2" --decode)"
check "decode skip special (bert)" '"hello world"' \
"$(echo '[101, 7592, 2088, 102]' | "$mlhub" tokenize "$bert" --decode --skip-special-tokens)"

# Bad lines give an error object and exit status 1; the next line still runs.
out=$(printf '"unterminated\n"ok"\n' | "$mlhub" tokenize "$bert" --jsonl 2>/dev/null); rc=$?
check "bad line exit status" 1 "$rc"
check "bad line then good line" \
'{"error":"expected a JSON string"}
{"ids":[101,7929,102],"tokens":["[CLS]","ok","[SEP]"],"offsets":[[0,0],[0,2],[0,0]]}' "$out"
out=$(printf 'ok \xff\n' | "$mlhub" tokenize "$bert" 2>/dev/null)
check "invalid utf-8" '{"error":"input is not valid UTF-8: invalid byte 0xFF at byte 3"}' "$out"

"$mlhub" tokenize /nonexistent </dev/null 2>/dev/null; rc=$?
check "missing tokenizer exit status" 2 "$rc"
exit $fail
