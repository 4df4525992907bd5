#!/usr/bin/env bash
# `mlhub plan create|assign|unassign|list` on a fresh data folder, as an administrator runs them,
# including the refusals (unknown plan or account, bad size, bad name, negative limit).
set -u
mlhub=$1
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
fail=0

check() {  # name, expected, actual
  if [ "$2" != "$3" ]; then
    echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
  else
    echo "ok   $1"
  fi
}

"$mlhub" user create alice --data "$data" || fail=1
"$mlhub" org create acme --member alice --data "$data" || fail=1

check "create" \
"NAME  REQUESTS/MIN  CHARACTERS/MONTH  TOKENS/MONTH  MAX MODEL SIZE
free  60            unlimited         unlimited     500 MB" \
"$("$mlhub" plan create free --data "$data" --requests-per-minute 60 --max-model-size 500MB)"

# Updating changes only the limits given.
check "update keeps the other limits" \
"NAME  REQUESTS/MIN  CHARACTERS/MONTH  TOKENS/MONTH  MAX MODEL SIZE
free  60            1000000           unlimited     1.5 GB" \
"$("$mlhub" plan create free --data "$data" --monthly-characters 1000000 --max-model-size 1.5GB)"

"$mlhub" plan create pro --data "$data" --requests-per-minute 600 --monthly-tokens 5000000 >/dev/null || fail=1
check "list" \
"NAME  REQUESTS/MIN  CHARACTERS/MONTH  TOKENS/MONTH  MAX MODEL SIZE
free  60            1000000           unlimited     1.5 GB
pro   600           unlimited         5000000       unlimited" \
"$("$mlhub" plan list --data "$data")"

# Each assignment prints the plan the account had, so the next line shows the last one stuck.
check "assign a user" "alice: plan 'pro', was none" "$("$mlhub" plan assign pro --account alice --data "$data")"
check "reassign" "alice: plan 'free', was 'pro'" "$("$mlhub" plan assign free --account alice --data "$data")"
check "assign an org" "acme: plan 'free', was none" "$("$mlhub" plan assign free --account acme --data "$data")"
check "assign \"\" removes" "alice: no plan, was 'free' (the server's default plan applies)" \
  "$("$mlhub" plan assign "" --account alice --data "$data")"
check "unassign" "acme: no plan, was 'free' (the server's default plan applies)" \
  "$("$mlhub" plan unassign --account acme --data "$data")"
check "unassign again" "acme: no plan, was none (the server's default plan applies)" \
  "$("$mlhub" plan unassign --account acme --data "$data")"

# Refusals: exit status 1 and a message naming the problem; nothing changes.
"$mlhub" plan assign pro --account alice --data "$data" >/dev/null || fail=1
err=$("$mlhub" plan assign gold --account alice --data "$data" 2>&1 >/dev/null); rc=$?
check "unknown plan: status" 1 "$rc"
check "unknown plan: message" "mlhub: no plan named 'gold' (create it with \`mlhub plan create gold\`)" "$err"
err=$("$mlhub" plan assign pro --account nobody --data "$data" 2>&1 >/dev/null); rc=$?
check "unknown account: status" 1 "$rc"
check "unknown account: message" "mlhub: no user or organization named 'nobody'" "$err"
err=$("$mlhub" plan create free --max-model-size 5XB --data "$data" 2>&1 >/dev/null); rc=$?
check "bad size: status" 1 "$rc"
check "bad size: message" \
  "mlhub: invalid size '5XB': unknown unit 'xb' (write e.g. 500MB, 1.5GB, 2GiB or a number of bytes)" "$err"
err=$("$mlhub" plan create free --max-model-size -1GB --data "$data" 2>&1 >/dev/null); rc=$?
check "negative size: status" 1 "$rc"
err=$("$mlhub" plan create Gold --data "$data" 2>&1 >/dev/null); rc=$?
check "bad name: status" 1 "$rc"
check "bad name: message" "mlhub: invalid plan name 'Gold': use 1 to 64 of a-z, 0-9, '_' and '-'" "$err"
err=$("$mlhub" plan create free --requests-per-minute -5 --data "$data" 2>&1 >/dev/null); rc=$?
check "negative limit: status" 1 "$rc"
check "negative limit: message" "mlhub: plan 'free': limits must be >= 0 (0 = unlimited)" "$err"
"$mlhub" plan create free --requests-per-minute many --data "$data" >/dev/null 2>&1; rc=$?
check "non-numeric limit: refused" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
check "assignment unchanged after refusals" "alice: plan 'pro', was 'pro'" \
  "$("$mlhub" plan assign pro --account alice --data "$data")"
check "list unchanged after refusals" \
"NAME  REQUESTS/MIN  CHARACTERS/MONTH  TOKENS/MONTH  MAX MODEL SIZE
free  60            1000000           unlimited     1.5 GB
pro   600           unlimited         5000000       unlimited" \
"$("$mlhub" plan list --data "$data")"
exit $fail
