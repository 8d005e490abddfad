#!/usr/bin/env bash
# kcat (Debian's package, over librdkafka 2.x; installed by .ci/install-deps) against Brook's
# Kafka listener at $KAFKA_BOOTSTRAP (tests/it/kafka_clients.rs runs this).
#
# kcat creates no topics: Brook's HTTP API ($KSQL_URL, called with the virtualenv's Python,
# $BROOK_PYTHON) creates streams over `kc` (two partitions), `kc_tx` (two) and `kc_bulk` (one),
# and a persistent query upper-casing `kc` into `UP`. Then `kcat -L` lists the topics with their
# partitions and reports an unknown one as such; keyed records with headers are produced to `kc`
# plainly, in each codec (`-z`, `-X compression.codec`), idempotently and as a tombstone (`-Z`),
# and read back with exactly their partitions, offsets, keys, values and headers; producing to an
# unknown topic fails; two transactions are read back read_committed and read_uncommitted, each
# commit marker taking an offset; a thousand records batched with zstd come back in order through
# small fetches; `kcat -Q` finds offsets by timestamp (and the latest and earliest) and `-o s@`
# starts there; a consumer group (`-G`) reads a part, then the rest from its committed offsets,
# then nothing, then only what was produced since; a regex subscription sees the topic; `UP`
# holds every record upper-cased. Any failure exits non-zero with "FAILED: <step>: <what
# differed>"; success prints "ok".
set -euo pipefail

boot="${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is not set}"
ksql_url="${KSQL_URL:?KSQL_URL is not set}"
python="${BROOK_PYTHON:-${BROOK_PY_VENV:-$HOME/.cache/brook-py}/bin/python}"
step="starting"

fail() {
    echo "FAILED: $step: $*" >&2
    exit 1
}

# expect WHAT EXPECTED ACTUAL: fails with a diff unless both texts are the same.
expect() {
    if [ "$2" != "$3" ]; then
        fail "$1 differs (- expected, + actual):
$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true)"
    fi
}

# kc ARGS...: kcat against the listener, up to 60 s; on failure, fails with what kcat said.
# Standard input is kcat's (records to produce).
kc() {
    local err status=0
    err="$(mktemp)"
    timeout 60 kcat -b "$boot" "$@" 2>"$err" || status=$?
    if [ "$status" -ne 0 ]; then
        fail "kcat $* exited with $status: $(cat "$err")"
    fi
    rm -f "$err"
}

# ksql STATEMENTS: runs them through POST /ksql (queries reading from the earliest offset);
# fails unless every statement succeeds.
ksql() {
    [ -x "$python" ] || fail "$python is missing: run .ci/install-deps"
    "$python" - "$ksql_url" "$1" <<'EOF' || fail "POST /ksql $1"
import json, sys, urllib.error, urllib.request

url, statements = sys.argv[1], sys.argv[2]
body = {"ksql": statements, "streamsProperties": {"auto.offset.reset": "earliest"}}
request = urllib.request.Request(
    url + "/ksql",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/vnd.ksql.v1+json"},
)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        entities = json.load(response)
except urllib.error.HTTPError as e:
    sys.exit(f"{e.code} {e.read().decode()}")
failed = [e for e in entities if e.get("commandStatus", {}).get("status") != "SUCCESS"]
if failed:
    sys.exit(f"not all succeeded: {entities}")
EOF
}

step="creating topics through the HTTP API"
ksql "CREATE STREAM s (k VARCHAR KEY, v VARCHAR)
        WITH (kafka_topic='kc', value_format='JSON', partitions=2);
      CREATE STREAM up AS SELECT k, UCASE(v) AS v FROM s WHERE v IS NOT NULL EMIT CHANGES;
      CREATE STREAM tx (v VARCHAR) WITH (kafka_topic='kc_tx', value_format='JSON', partitions=2);
      CREATE STREAM bulk (v VARCHAR)
        WITH (kafka_topic='kc_bulk', value_format='JSON', partitions=1);"

step="metadata (kcat -L)"
metadata="$(kc -L)"
for line in "broker 1 at $boot (controller)" 'topic "kc" with 2 partitions:' \
    'partition 0, leader 1, replicas: 1, isrs: 1' 'partition 1, leader 1, replicas: 1, isrs: 1' \
    'topic "kc_tx" with 2 partitions:' 'topic "kc_bulk" with 1 partitions:' \
    'topic "UP" with 2 partitions:'; do
    grep -qF "$line" <<<"$metadata" || fail "no '$line' in:
$metadata"
done
missing="$(kc -L -t kc_missing)"
grep -qF 'topic "kc_missing" with 0 partitions: Broker: Unknown topic or partition' <<<"$missing" ||
    fail "an unknown topic listed as:
$missing"

# Keys are placed by librdkafka's default partitioner (consistent_random: CRC-32 of the key
# modulo the partition count): alpha, charlie, echo, foxtrot, lima, mike, oscar, victor on
# partition 0; bravo, delta, golf, hotel, india, juliet, kilo, quebec on 1.
value() { printf '%s:{"V":"%s"}\n' "$1" "$1"; }
step="producing plain records with headers"
{ value alpha; value bravo; value charlie; value delta; } | kc -P -t kc -K: -H a=b -H c=d
for codec in gzip snappy lz4 zstd; do
    step="producing $codec records"
    case "$codec" in
        gzip) keys=(echo golf) options=(-z gzip) ;;
        snappy) keys=(foxtrot hotel) options=(-z snappy) ;;
        lz4) keys=(lima india) options=(-z lz4) ;;
        zstd) keys=(mike juliet) options=(-X compression.codec=zstd) ;;
    esac
    for key in "${keys[@]}"; do value "$key"; done |
        kc -P -t kc -K: -H "codec=$codec" "${options[@]}"
done
step="producing idempotently"
{ value oscar; value kilo; } | kc -P -t kc -K: -H idem=1 -X enable.idempotence=true -z gzip
step="producing a tombstone"
printf 'zulu:\n' | kc -P -t kc -K: -p 0 -Z

step="producing to an unknown topic"
if printf 'x:y\n' | timeout 60 kcat -b "$boot" -P -t kc_missing -K: -X message.timeout.ms=3000 \
    2>/dev/null; then
    fail "kcat -P to an unknown topic succeeded (topics are not created on use)"
fi

step="consuming every record (kcat -C)"
expected='0|0|alpha|{"V":"alpha"}|a=b,c=d
0|1|charlie|{"V":"charlie"}|a=b,c=d
0|2|echo|{"V":"echo"}|codec=gzip
0|3|foxtrot|{"V":"foxtrot"}|codec=snappy
0|4|lima|{"V":"lima"}|codec=lz4
0|5|mike|{"V":"mike"}|codec=zstd
0|6|oscar|{"V":"oscar"}|idem=1
0|7|zulu|NULL|
1|0|bravo|{"V":"bravo"}|a=b,c=d
1|1|delta|{"V":"delta"}|a=b,c=d
1|2|golf|{"V":"golf"}|codec=gzip
1|3|hotel|{"V":"hotel"}|codec=snappy
1|4|india|{"V":"india"}|codec=lz4
1|5|juliet|{"V":"juliet"}|codec=zstd
1|6|kilo|{"V":"kilo"}|idem=1'
records="$(kc -C -t kc -e -Z -f '%p|%o|%k|%s|%h\n' | sort -t'|' -k1,1n -k2,2n)"
expect "records read back" "$expected" "$records"

# Transactions get a topic of their own: librdkafka (2.0.2 as 2.16) commits a group's offset
# past a transaction marker it has fetched but not yet reached when the consumer closes
# (librdkafka issue 3400), which would spoil the partial group read below.
for n in 1 2; do
    step="producing in transaction $n"
    printf 'victor:%s\nquebec:%s\n' "$n" "$n" |
        kc -P -t kc_tx -K: -H "tx=$n" -X transactional.id=kcat-tx
done
step="consuming transactional records"
expected_tx='0|0|victor|1|tx=1
0|2|victor|2|tx=2
1|0|quebec|1|tx=1
1|2|quebec|2|tx=2'
for isolation in read_committed read_uncommitted; do
    records="$(kc -C -t kc_tx -e -X isolation.level=$isolation -f '%p|%o|%k|%s|%h\n' |
        sort -t'|' -k1,1n -k2,2n)"
    expect "kc_tx read $isolation (each commit marker taking an offset)" "$expected_tx" "$records"
done
ends="$(kc -Q -t kc_tx:0:-1 -t kc_tx:1:-1 | sort)"
expect "kc_tx's end offsets" "kc_tx [0] offset 4
kc_tx [1] offset 4" "$ends"

step="a thousand records batched with zstd"
seq 1 1000 | kc -P -t kc_bulk -z zstd -X linger.ms=200 -X batch.num.messages=64
bulk="$(kc -C -t kc_bulk -e -X fetch.message.max.bytes=256 -f '%o %s\n')"
expect "kc_bulk read back" "$(seq 0 999 | awk '{ print $1, $1 + 1 }')" "$bulk"

step="offsets by timestamp (kcat -Q)"
stamps="$(kc -C -t kc -e -f '%p %o %T\n')"
# The snappy records' timestamps less a millisecond: the first offset at or after each is what
# the records' own timestamps say.
t0="$(awk '$1 == 0 && $2 == 3 { printf "%.0f\n", $3 - 1 }' <<<"$stamps")"
t1="$(awk '$1 == 1 && $2 == 3 { printf "%.0f\n", $3 - 1 }' <<<"$stamps")"
[ -n "$t0" ] && [ -n "$t1" ] || fail "no timestamps for offset 3 in:
$stamps"
first_at() { awk -v p="$1" -v t="$2" '$1 == p && $3 >= t { print $2; exit }' <<<"$stamps"; }
future=$((t1 + 3600 * 1000))
by_time="$(kc -Q -t "kc:0:$t0" -t "kc:1:$t1" | sort)"
expect "kcat -Q -t kc:0:$t0 -t kc:1:$t1" "kc [0] offset $(first_at 0 "$t0")
kc [1] offset $(first_at 1 "$t1")" "$by_time"
after_all="$(kc -Q -t "kc:0:$future")"
expect "kcat -Q past the last record" "kc [0] offset -1" "$after_all"
ends="$(kc -Q -t kc:0:-1 -t kc:1:-2 | sort)"
expect "kcat -Q latest and earliest" "kc [0] offset 8
kc [1] offset 0" "$ends"
started="$(kc -C -t kc -p 1 -o "s@$t1" -c 1 -f '%o\n')"
expect "first offset of -o s@$t1" "$(first_at 1 "$t1")" "$started"

step="a consumer group (kcat -G)"
all_offsets="$(cut -d'|' -f1,2 <<<"$expected")"
part="$(kc -G kc-grp -X auto.offset.reset=earliest -c 5 -f '%p|%o\n' kc)"
[ "$(wc -l <<<"$part")" -eq 5 ] || fail "-c 5 read: $part"
rest="$(kc -G kc-grp -X auto.offset.reset=earliest -e -f '%p|%o\n' kc)"
expect "the group's two reads together" "$all_offsets" \
    "$(printf '%s\n%s\n' "$part" "$rest" | sort -t'|' -k1,1n -k2,2n)"
again="$(kc -G kc-grp -e -f '%p|%o\n' kc)"
expect "the group reading again from its committed offsets" "" "$again"
value xray | kc -P -t kc -K: -p 0
value yankee | kc -P -t kc -K: -p 1
new="$(kc -G kc-grp -e -f '%p|%o|%k\n' kc | sort)"
expect "the group reading what was produced since" "0|8|xray
1|7|yankee" "$new"
regex="$(kc -G kc-re -X auto.offset.reset=earliest -e -f '%p|%o|%t\n' '^kc$' |
    sort -t'|' -k1,1n -k2,2n)"
expect "a regex subscription (^kc$)" "$(printf '%s\n0|8\n1|7\n' "$all_offsets" |
    sort -t'|' -k1,1n -k2,2n | sed 's/$/|kc/')" "$regex"

step="the query's output topic"
# Every key of `kc` but the tombstone's, with its value upper-cased (GNU sed's \U).
upper="$({ grep -v '|NULL|' <<<"$expected" | cut -d'|' -f3; printf 'xray\nyankee\n'; } |
    sed 's/.*/&|{"V":"\U&"}/' | sort)"
count="$(wc -l <<<"$upper")"
kc -C -t UP -o beginning -c "$count" -f '%k|%s\n' >/dev/null
output="$(kc -C -t UP -e -f '%k|%s\n' | sort)"
expect "UP (the query's output)" "$upper" "$output"

echo ok
