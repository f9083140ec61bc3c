#!/usr/bin/env bash
# Walk-through: a community is valued and funded, a member votes a data-use proposal that is adopted and changes
# robots.txt, and a pool-spending proposal pays out. Real `datalever serve` on a scratch SQLite db, curl.
set -euo pipefail
DL=${DATALEVER:-datalever}
W=${WALK_DIR:-/tmp/datalever-walk}; rm -rf $W; mkdir -p $W; cd $W
export DATALEVER_DATABASE_URL=sqlite:///$W/walk.db
PORT=8765; U=http://127.0.0.1:$PORT
$DL db upgrade >/dev/null
ADMIN=$($DL keys create --role admin | tail -1)
OPER=$($DL keys create --role operator | tail -1)
$DL serve --port $PORT > serve.log 2>&1 &
SERVER=$!; trap 'kill $SERVER' EXIT
for i in $(seq 50); do curl -sf $U/healthz >/dev/null && break; sleep 0.2; done
say() { printf '\n$ %s\n' "$*"; }
post() { curl -s -X POST "$U$1" -H "Authorization: Bearer $2" -H "Idempotency-Key: $3" -H 'Content-Type: application/json' -d "$4"; echo; }
put() { curl -s -X PUT "$U$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; echo; }

say "two communities tied to catalog nodes (each gets a pool account)"
put /v1/pools/communities/stackexchange $ADMIN '{"name":"Stack Exchange","nodes":["stack-exchange"],"change_cost":150}' | jq -c '{id,nodes,pool_account,pool_balance}'
put /v1/pools/communities/wikipedians $ADMIN '{"nodes":["wikipedia"]}' | jq -c '{id,nodes,pool_account}'
put /v1/flows/coalitions/stackexchange/preferences $ADMIN '{"coalition":"stackexchange","paths":["/questions/"],"default":"allow"}' | jq -c '{version}'
say "members: ana (100 credits) and ben, added by an admin"
ANA=$(post /v1/members $ADMIN m1 '{}' | jq .id); BEN=$(post /v1/members $ADMIN m2 '{}' | jq .id)
post /v1/members/$ANA/grants $ADMIN g1 '{"amount":100,"source":"walkthrough"}' | jq -c '{amount,balance}'
put /v1/pools/communities/stackexchange/members/$ANA $ADMIN '' | jq -c .
put /v1/pools/communities/stackexchange/members/$BEN $ADMIN '' | jq -c .
ANAKEY=$($DL keys create --role member --member $ANA | tail -1)
MONTH=$(date -u -d "$(date -u +%Y-%m-15) -1 month" +%Y-%m)

say "valuation for $MONTH (Shapley over the loss-reduction game, LLaMA-65B, Chinchilla fit)"
post /v1/pools/valuations $OPER v1 "{\"month\":\"$MONTH\"}" | jq -c '.id, .inputs.catalog_version[0:12], (.result.communities[] | {community, value, weight})'
say "$DL valuation run --month $MONTH --method token_share --out valuation"
$DL valuation run --month $MONTH --method token_share --out valuation
say "funding for $MONTH (twice: the second is a replay)"
post /v1/pools/funding/$MONTH $OPER - '' | jq -c '{budget, operator, valuation_run, allocations}'
curl -s -i -X POST $U/v1/pools/funding/$MONTH -H "Authorization: Bearer $OPER" | grep -i -E '^(HTTP|idempotent)'

say "robots.txt before"
curl -s $U/v1/flows/coalitions/stackexchange/robots.txt | grep -E 'User-agent: (GPTBot|AI2Bot)|Allow|Disallow' | head -4
say "a data-use proposal: training crawlers only if their operator funds the pool (3-second window)"
OPENS=$(date -u +%Y-%m-%dT%H:%M:%SZ); CLOSES=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
PID=$(post /v1/pools/communities/stackexchange/proposals $ADMIN p1 "{\"kind\":\"data_use\",\"title\":\"Training only by funders\",\"opens_at\":\"$OPENS\",\"closes_at\":\"$CLOSES\",\"preferences\":{\"paths\":[\"/questions/\"],\"default\":\"allow\",\"rules\":[{\"purpose\":\"training\",\"decision\":\"allow_if_funding\"}]}}" | jq .id)
echo "proposal $PID"
say "ana buys 3 votes for (quadratic: 9 credits, to the pool)"
post /v1/pools/proposals/$PID/votes $ANAKEY vote1 "{\"member_id\":$ANA,\"option_id\":1,\"votes\":3}" | jq -c .
say "too early to tally"
post /v1/pools/proposals/$PID/tally $ADMIN - '' | jq -c .
sleep 4
say "tally after the window"
post /v1/pools/proposals/$PID/tally $ADMIN - '' | jq -c '{status, tally}'
say "robots.txt after (AI2Bot allowed: Ai2 funded the pool; GPTBot blocked)"
curl -s $U/v1/flows/coalitions/stackexchange/robots.txt | grep -E 'User-agent: (GPTBot|AI2Bot)|^Allow|^Disallow|Blocked|Allowed'
curl -s $U/v1/flows/coalitions/stackexchange/tdmrep.json | jq -c .
say "alignment score for this month sees ana's agency (she changed the flow for 9 < 100 credits)"
curl -s -X PUT $U/v1/flows/alignment/llama-65b/$(date -u +%Y-%m) -H "Authorization: Bearer $ADMIN" | jq -c '.scores[] | {coalition, members, agency}'

say "a pool-spending proposal: two projects, budget 1000 (Method of Equal Shares)"
CLOSES=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
SID=$(post /v1/pools/communities/stackexchange/proposals $ADMIN p2 "{\"kind\":\"spending\",\"title\":\"Community projects\",\"budget\":1000,\"closes_at\":\"$CLOSES\",\"projects\":[{\"title\":\"Moderator tooling\",\"cost\":600,\"recipient_member_id\":$BEN},{\"title\":\"Translation sprint\",\"cost\":700,\"recipient_member_id\":$BEN}]}" | jq .id)
post /v1/pools/proposals/$SID/votes $ANAKEY vote2 "{\"member_id\":$ANA,\"option_id\":1,\"votes\":2}" | jq -c '{votes_held, credits, balance}'
say "a vote beyond the window is refused"
sleep 4
post /v1/pools/proposals/$SID/votes $ANAKEY vote3 "{\"member_id\":$ANA,\"option_id\":2,\"votes\":1}" | jq -c .
post /v1/pools/proposals/$SID/tally $OPER - '' | jq -c '{status, tally: (.tally | {rule, budget, paid, outcome, payouts, options})}'
say "ben's balance and the pool"
curl -s $U/v1/members/$BEN/balance -H "Authorization: Bearer $ADMIN" | jq -c '{balance}'
curl -s $U/v1/pools/communities/stackexchange -H "Authorization: Bearer $ADMIN" | jq -c '{pool_balance, fundings}'
