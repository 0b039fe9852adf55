-- The Redis backend's scripts, one `-- name --` section each (loaded by connection.py).
--
-- Every operation is one script, so it is atomic: two replicas never claim the same record, and
-- a crash between two operations leaves whole ones only. `common` is prepended to every other
-- section (a script runs alone; the helpers travel with it). ARGV[1] is the key prefix; key
-- names are built from it, so the backend needs a standalone Redis (not a cluster). Times come
-- from the client's clock as text (never Redis TIME: tests move the clock by hand), and stay
-- text where they are stored, so a float round-trips exactly.
--
-- A record's claim key is deadline (8 digits) \0 inverter \0 day: bytewise, the claim order
-- (an inverter id holds no NUL, so no claim key is a prefix of another).
-- Layout (P = the prefix; <a> an account name, the rest of the key):
--   P:pending:<a>   ZSET, score 0, member claim key \0 the record as its next claim hands it out
--                   (a QueuedRecord as JSON): a claim is one range read and one range delete
--   P:firsts:<a>    HASH first_enqueued_at -> pending records enqueued then; P:oldest:<a> ZSET
--                   of those times (oldest_pending_at without an index entry per record)
--   P:ids:<a>       HASH claim key -> record id (every stored record: the upsert's memory)
--   P:flags:<a>     HASH flags -> stored records carrying them
--   P:held:<a>      ZSET lease id -> until (delayed releases: next_available_at)
--   P:awaiting:<a>  ZSET w -> sent_at, w being the row's ack number (16 digits) and batch id:
--                   ledger rows with a ProcessId and no final status, oldest (then first) first
--   P:dead:<a>      ZSET dead letter id -> id (list_dead of one account)
--   P:record:<id>   HASH k claim key, p period, q accumulated, f flags, s source, t first
--                   enqueued, v version, x failures, c the version the registry confirmed
--   P:lease:<id>    HASH record id -> the record as the claim handed it out
--   P:leaseinfo:<id> HASH a account, o oldest first_enqueued_at (delayed releases only), h the
--                   replica whose account lease the claim was made under (fleet.lua)
--   P:live          ZSET lease id -> until (claims); P:delayed the same for delayed releases
--   P:batch:<id>    HASH a account, n records, sa sent_at, hs http status, pid, ep endpoint,
--                   st status, sat status_at, items [[id,version],...], rq requeued once,
--                   w its member of P:awaiting
--   P:batches       ZSET batch id -> sent_at (pruning)
--   P:letter:<id>   HASH a account, r reason, s source, at, rid record id, v version, k claim
--                   key, p, q, raw
--   P:letters       ZSET id -> id (list order); P:letters:at id -> at (purging)
--   P:letters:record HASH record id -> letter id; P:letters:row HASH source\0raw -> letter id
--   P:letters:accounts SET accounts with dead letters; P:accounts SET accounts that enqueued
--   P:sent          HASH account -> deliveries; P:seq HASH record/lease/letter/batch -> last
-- Invariants: a record has at most one pending member, carrying its current version (a changed
-- value replaces it; a stale one is never pended again); every pending member's record exists
-- (purge keeps a record that is pending).

-- common --
local P = ARGV[1]
local CHUNK = 1000  -- arguments per command: Lua's unpack() fails near 8000

local function key(kind, name)
    return P .. ':' .. kind .. ':' .. name
end

-- Integers as text without going through "%.14g" (which turns 10^14 into "1e+14").
local function int(n)
    return string.format('%d', n)
end

-- '' is None; anything else arrives as '=' .. value.
local function optional(text)
    if text == '' then
        return nil
    end
    return string.sub(text, 2)
end

local function call_chunked(command, k, args, step)
    for i = 1, #args, step do
        redis.call(command, k, unpack(args, i, math.min(i + step - 1, #args)))
    end
end

local function hmget_all(k, fields)
    local values = {}
    for i = 1, #fields, CHUNK do
        local part = redis.call('HMGET', k, unpack(fields, i, math.min(i + CHUNK - 1, #fields)))
        for _, value in ipairs(part) do
            values[#values + 1] = value
        end
    end
    return values
end

-- Anchored patterns: an unanchored one is tried at every position (3-4 times the cost).
local function first_of(json)
    return string.match(json, '^.*,([^,]+)%]$')
end

-- A pending member is claim key \0 claimed form; only the NUL before the form precedes '['.
local function json_of(member)
    return string.sub(member, string.find(member, '\0[', 10, true) + 1)
end

local function ckey_of(member)
    return string.sub(member, 1, string.find(member, '\0[', 10, true) - 1)
end

-- The claimed form, built from a record's fields.
local function claimed_json(rid, version, ckey, p, q, attempts, first)
    local inverter, day = string.sub(ckey, 10, -12), string.sub(ckey, -10)
    return '[' .. rid .. ',' .. version .. ',' .. cjson.encode(inverter) .. ',"' .. day
        .. '","' .. p .. '","' .. q .. '",' .. attempts .. ',' .. first .. ']'
end

local function add_flags(account, flags, delta)
    if flags ~= '0' then
        local flagged = key('flags', account)
        if redis.call('HINCRBY', flagged, flags, delta) == 0 then
            redis.call('HDEL', flagged, flags)
        end
    end
end

-- `delta` pending records more (or fewer) were first enqueued at `first`.
local function count_first(account, first, delta)
    local firsts = key('firsts', account)
    local n = redis.call('HINCRBY', firsts, first, delta)
    if n <= 0 then
        redis.call('HDEL', firsts, first)
        redis.call('ZREM', key('oldest', account), first)
    elseif n == delta then
        redis.call('ZADD', key('oldest', account), first, first)
    end
end

local function count_firsts(account, counted)
    for first, n in pairs(counted) do
        count_first(account, first, n)
    end
end

-- The pending member of a claim key, or nil.
local function pending_of(account, ckey)
    local k = key('pending', account)
    return redis.call('ZRANGEBYLEX', k, '[' .. ckey .. '\0', '(' .. ckey .. '\1', 'LIMIT', 0, 1)[1]
end

local function pend(account, ckey, json, first)
    redis.call('ZADD', key('pending', account), 0, ckey .. '\0' .. json)
    count_first(account, first, 1)
end

-- Pending again with attempts at one, where the value is still `version` and not pending yet.
local function repend_fresh(account, rid, version)
    local r = redis.call('HMGET', key('record', rid), 'v', 'k', 'p', 'q', 't')
    if r[1] ~= version or pending_of(account, r[2]) then
        return 0
    end
    pend(account, r[2], claimed_json(rid, version, r[2], r[3], r[4], 1, r[5]), r[5])
    return 1
end

-- A leased record (as its claim handed it out) pending again, one attempt further; nothing
-- when its value changed meanwhile (the new value is pending already) or it is pending.
local function repend_leased(account, json)
    local rid, version = string.match(json, '^%[(%d+),(%d+),')
    local r = redis.call('HMGET', key('record', rid), 'v', 'k')
    if r[1] ~= version or pending_of(account, r[2]) then
        return
    end
    local head, attempts, first = string.match(json, '^(.*),(%d+),([^,]+)%]$')
    pend(account, r[2], head .. ',' .. int(attempts + 1) .. ',' .. first .. ']', first)
end

-- After a lease expired: the same values taken out of pending again.
local function unpend(account, rid, version)
    local r = redis.call('HMGET', key('record', rid), 'v', 'k')
    local member = r[1] == version and pending_of(account, r[2])
    if member then
        redis.call('ZREM', key('pending', account), member)
        count_first(account, first_of(member), -1)
    end
end

-- `holder`: the replica whose account lease the claim was made under (nil: none).
local function new_lease(account, records, holder)
    local id = int(redis.call('HINCRBY', P .. ':seq', 'lease', 1))
    local fields = {}
    for i, json in ipairs(records) do
        fields[2 * i - 1] = string.match(json, '^%[(%d+),')
        fields[2 * i] = json
    end
    call_chunked('HSET', key('lease', id), fields, 2 * CHUNK)
    redis.call('HSET', key('leaseinfo', id), 'a', account)
    if holder then
        redis.call('HSET', key('leaseinfo', id), 'h', holder)
    end
    return id
end

local function drop_lease(id, delayed, account)
    redis.call('UNLINK', key('lease', id), key('leaseinfo', id))
    if delayed then
        redis.call('ZREM', P .. ':delayed', id)
        redis.call('ZREM', key('held', account), id)
    else
        redis.call('ZREM', P .. ':live', id)
    end
end

-- Expired leases (and delays that ran out) put their records back into pending, the
-- earliest expiry first (as the other backends do): when a record is in two of them, the
-- first decides its attempts.
local function reap(now)
    local expired = {}
    for _, kind in ipairs({'live', 'delayed'}) do
        local found = redis.call('ZRANGEBYSCORE', P .. ':' .. kind, '-inf', now, 'WITHSCORES')
        for i = 1, #found, 2 do
            expired[#expired + 1] = {tonumber(found[i + 1]), tonumber(found[i]), kind == 'delayed'}
        end
    end
    table.sort(expired, function(a, b)
        return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
    end)
    for _, lease in ipairs(expired) do
        local id = int(lease[2])
        local account = redis.call('HGET', key('leaseinfo', id), 'a')
        for _, json in ipairs(redis.call('HVALS', key('lease', id))) do
            repend_leased(account, json)
        end
        drop_lease(id, lease[3], account)
    end
end

-- The server's clock in ms: the fleet's liveness (fleet.lua), never a record's time.
local function server_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Whether a replica is a live member of the fleet at `now` (server ms).
local function live_at(replica, now)
    local until_ms = redis.call('ZSCORE', P .. ':members', replica)
    return until_ms ~= false and tonumber(until_ms) > now
end

-- The replica of an account lease's token ("<replica id> <epoch>").
local function holder_of(token)
    return string.match(token, '^(.+) %d+$')
end

-- The account's claims made under an account lease (of `holder` only, when given) pending
-- again, one attempt further; returns how many records.
local function free_claims(account, holder)
    local freed = 0
    for _, id in ipairs(redis.call('ZRANGE', P .. ':live', 0, -1)) do
        local info = redis.call('HMGET', key('leaseinfo', id), 'a', 'h')
        if info[1] == account and info[2] and (holder == nil or info[2] == holder) then
            for _, json in ipairs(redis.call('HVALS', key('lease', id))) do
                repend_leased(account, json)
                freed = freed + 1
            end
            drop_lease(id, false, account)
        end
    end
    return freed
end

-- "id:version" of the records in the account's live claims, and in its delayed releases.
local function leased_refs(account)
    local live, held = {}, {}
    local function add(into, id)
        for _, json in ipairs(redis.call('HVALS', key('lease', id))) do
            local rid, version = string.match(json, '^%[(%d+),(%d+),')
            into[rid .. ':' .. version] = true
        end
    end
    for _, id in ipairs(redis.call('ZRANGE', P .. ':live', 0, -1)) do
        if redis.call('HGET', key('leaseinfo', id), 'a') == account then
            add(live, id)
        end
    end
    for _, id in ipairs(redis.call('ZRANGE', key('held', account), 0, -1)) do
        add(held, id)
    end
    return live, held
end

-- Records out of a claim's lease: their claimed forms, or nil when the lease is gone.
local function take(id, account, rids)
    local lease = key('lease', id)
    if redis.call('EXISTS', lease) == 0 then
        return nil
    end
    local taken = {}
    for _, rid in ipairs(rids) do
        local json = redis.call('HGET', lease, rid)
        if json then
            taken[#taken + 1] = json
            redis.call('HDEL', lease, rid)
        end
    end
    if redis.call('EXISTS', lease) == 0 then
        drop_lease(id, false, account)
    end
    return taken
end

-- Settled records (acked or rejected) leave their lease; after the lease expired, the same
-- values leave pending instead. Returns 1 when the lease was live, else 0.
local function settle(id, account, rids, versions)
    if take(id, account, rids) ~= nil then
        return 1
    end
    for i, rid in ipairs(rids) do
        unpend(account, rid, versions[i])
    end
    return 0
end

local function drop_letter(id)
    local letter = key('letter', id)
    local d = redis.call('HMGET', letter, 'a', 'rid', 's', 'raw')
    redis.call('ZREM', P .. ':letters', id)
    redis.call('ZREM', P .. ':letters:at', id)
    if d[1] then
        local of = key('dead', d[1])
        redis.call('ZREM', of, id)
        if redis.call('EXISTS', of) == 0 then
            redis.call('SREM', P .. ':letters:accounts', d[1])
        end
    end
    if d[2] then
        redis.call('HDEL', P .. ':letters:record', d[2])
    end
    if d[4] then
        redis.call('HDEL', P .. ':letters:row', d[3] .. '\0' .. d[4])
    end
    redis.call('UNLINK', letter)
end

local function forget_letter_of(rid)
    local old = redis.call('HGET', P .. ':letters:record', rid)
    if old then
        drop_letter(old)
    end
end

local function add_letter(account, fields, at)
    local id = int(redis.call('HINCRBY', P .. ':seq', 'letter', 1))
    local letter = key('letter', id)
    redis.call('HSET', letter, 'at', at, unpack(fields))
    redis.call('ZADD', P .. ':letters', id, id)
    redis.call('ZADD', P .. ':letters:at', at, id)
    if account then
        redis.call('HSET', letter, 'a', account)
        redis.call('ZADD', key('dead', account), id, id)
        redis.call('SADD', P .. ':letters:accounts', account)
    end
    return id
end

-- A dead letter of the record, where its value is still `version` (replacing an older one).
local function dead_record(account, rid, version, reason, at)
    local r = redis.call('HMGET', key('record', rid), 'v', 'k', 'p', 'q', 's')
    if r[1] ~= version then
        return 0
    end
    forget_letter_of(rid)
    local fields = {'r', reason, 'rid', rid, 'v', version, 'k', r[2], 'p', r[3], 'q', r[4]}
    if r[5] then
        fields[#fields + 1] = 's'
        fields[#fields + 1] = r[5]
    end
    redis.call('HSET', P .. ':letters:record', rid, add_letter(account, fields, at))
    return 1
end

-- A purged dead record is forgotten: enqueueing it again queues it anew. One that is pending
-- (a stale claim's rejection raced a new claim) stays: it will be sent, as it is queued.
local function forget_record(account, rid)
    local rec = key('record', rid)
    local r = redis.call('HMGET', rec, 'k', 'f')
    if r[1] and not pending_of(account, r[1]) then
        redis.call('HDEL', key('ids', account), r[1])
        add_flags(account, r[2], -1)
        redis.call('UNLINK', rec)
    end
end

-- enqueue --
-- ARGV: prefix, account, now, then the records as one msgpack array of strings, six per
-- record: claim key, head (the JSON of inverter and day, no brackets), period, accumulated,
-- flags, source (optional). Returns how many changed.
local account, now = ARGV[2], ARGV[3]
local fields = cmsgpack.unpack(ARGV[4])
local ids, pending = key('ids', account), key('pending', account)
local ckeys = {}
for i = 1, #fields, 6 do
    ckeys[#ckeys + 1] = fields[i]
end
local found = hmget_all(ids, ckeys)
local next_id = tonumber(redis.call('HGET', P .. ':seq', 'record') or '0')
local made = {}  -- claim key -> record id, for keys created by this call (a key may come twice)
local new_ids, members, slot, counted, changed = {}, {}, {}, {}, 0
for n, ckey in ipairs(ckeys) do
    local at = (n - 1) * 6
    local head, p, q, flags = fields[at + 2], fields[at + 3], fields[at + 4], fields[at + 5]
    local source = optional(fields[at + 6])
    local rid = made[ckey] or found[n]
    local version, first
    if not rid then
        next_id = next_id + 1
        rid, version, first = int(next_id), '1', now
        made[ckey] = rid
        redis.call('HSET', key('record', rid), 'k', ckey, 'p', p, 'q', q, 'f', flags, 't', now, 'v', 1, 'x', 0)
        if source then
            redis.call('HSET', key('record', rid), 's', source)
        end
        new_ids[#new_ids + 1] = ckey
        new_ids[#new_ids + 1] = rid
        add_flags(account, flags, 1)
    else
        local rec = key('record', rid)
        local r = redis.call('HMGET', rec, 'p', 'q', 'f', 't')
        if r[1] ~= p or r[2] ~= q then
            version, first = int(redis.call('HINCRBY', rec, 'v', 1)), r[4]
            redis.call('HSET', rec, 'p', p, 'q', q, 'f', flags, 'x', 0)
            if source then
                redis.call('HSET', rec, 's', source)
            else
                redis.call('HDEL', rec, 's')
            end
            if r[3] ~= flags then
                add_flags(account, r[3], -1)
                add_flags(account, flags, 1)
            end
            forget_letter_of(rid)
        end
    end
    if version then
        changed = changed + 1
        local member = ckey .. '\0[' .. rid .. ',' .. version .. ',' .. head .. ',"' .. p .. '","' .. q .. '",1,' .. first .. ']'
        if slot[ckey] then  -- pended earlier in this call: the later value replaces it
            members[slot[ckey]] = member
        else
            local old = not made[ckey] and pending_of(account, ckey)
            if old then  -- the old value was pending: same record, same first time
                redis.call('ZREM', pending, old)
            else
                counted[first] = (counted[first] or 0) + 1
            end
            members[#members + 1] = 0
            members[#members + 1] = member
            slot[ckey] = #members
        end
    end
end
redis.call('SADD', P .. ':accounts', account)
redis.call('HSET', P .. ':seq', 'record', int(next_id))
call_chunked('HSET', ids, new_ids, 2 * CHUNK)
call_chunked('ZADD', pending, members, 2 * CHUNK)
count_firsts(account, counted)
return changed

-- claim --
-- ARGV: prefix, account, limit, now, until, one inverter (1/0), of its first year only (1/0),
-- the token of the account lease it is made under ('' for none). Returns false, or {lease id,
-- the records as one JSON array}; an error when the token is not the account's live lease
-- (fencing: a replica that froze past its lease claims nothing when it wakes).
local account, limit, now, lease_until = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local holder = nil
if ARGV[8] ~= '' then
    holder = holder_of(ARGV[8])
    if redis.call('HGET', P .. ':owners', account) ~= ARGV[8] or not live_at(holder, server_ms()) then
        return redis.error_reply('account ' .. account .. ' is not leased to this replica (any more)')
    end
end
reap(now)
local pending = key('pending', account)
-- A run is a contiguous range of the claim order: one range removal takes it.
local function take_run(from, to, most)
    local run = redis.call('ZRANGEBYLEX', pending, from, to, 'LIMIT', 0, most)
    if #run > 0 then
        redis.call('ZREMRANGEBYLEX', pending, '[' .. run[1], '[' .. run[#run])
    end
    return run
end
local members
if ARGV[6] == '1' then
    -- The head's inverter, deadline by deadline (a day's deadline never falls before an
    -- earlier day's, so this is date order); the next deadline is one seek past this one's.
    members = take_run('-', '+', 1)
    if #members == 0 then
        return false
    end
    local ckey = ckey_of(members[1])
    local deadline, inverter = string.sub(ckey, 1, 8), string.sub(ckey, 10, -12)
    -- A run ends before the next year's days ('(' .. run .. '\0YYYY'), or with the inverter.
    local stop = '\1'
    if ARGV[7] == '1' then
        stop = '\0' .. string.format('%04d', tonumber(string.sub(ckey, -10, -7)) + 1)
    end
    while deadline and #members < limit do
        local run = deadline .. '\0' .. inverter
        for _, member in ipairs(take_run('[' .. run .. '\0', '(' .. run .. stop, limit - #members)) do
            members[#members + 1] = member
        end
        local following = redis.call('ZRANGEBYLEX', pending, '(' .. deadline .. '\1', '+', 'LIMIT', 0, 1)[1]
        deadline = following and string.sub(following, 1, 8)
    end
else
    members = take_run('-', '+', limit)
end
if #members == 0 then
    return false
end
local records, counted = {}, {}
for i, member in ipairs(members) do
    local json = json_of(member)
    local first = first_of(json)
    records[i] = json
    counted[first] = (counted[first] or 0) - 1
end
count_firsts(account, counted)
local id = new_lease(account, records, holder)
redis.call('ZADD', P .. ':live', lease_until, id)
return {id, '[' .. table.concat(records, ',') .. ']'}

-- ack --
-- ARGV: prefix, account, lease id, records acked, batch id, sent_at, the entry's record count,
-- http status, process id (optional), endpoint, the acked [[id,version],...]. Returns 1 when
-- the lease was live, else 0.
local account, id, n, batch = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local sent_at, pid, items = ARGV[6], optional(ARGV[9]), ARGV[11]
local ledger = key('batch', batch)
if redis.call('EXISTS', ledger) == 1 then
    return redis.error_reply('batch ' .. batch .. ' is already in the ledger')
end
local live = 1
if n > 0 and redis.call('HLEN', key('lease', id)) == n then
    drop_lease(id, false, account)  -- the common case: the whole claim, no per-record work
else
    local rids, versions = {}, {}
    for rid, version in string.gmatch(items, '%[(%d+),(%d+)%]') do
        rids[#rids + 1], versions[#versions + 1] = rid, version
    end
    live = settle(id, account, rids, versions)
end
local waiting = string.format('%016d', redis.call('HINCRBY', P .. ':seq', 'batch', 1)) .. batch
redis.call('HSET', ledger, 'a', account, 'n', ARGV[7], 'sa', sent_at, 'hs', ARGV[8], 'ep', ARGV[10], 'items', items, 'w', waiting)
redis.call('ZADD', P .. ':batches', sent_at, batch)
if pid then
    redis.call('HSET', ledger, 'pid', pid)
    redis.call('ZADD', key('awaiting', account), sent_at, waiting)
end
redis.call('HINCRBY', P .. ':sent', account, ARGV[4])
return live

-- release --
-- ARGV: prefix, account, lease id, until ('' releases at once), record ids... Returns 1 when
-- the lease was live, else 0.
local account, id, release_until = ARGV[2], ARGV[3], ARGV[4]
local rids = {}
for i = 5, #ARGV do
    rids[#rids + 1] = ARGV[i]
end
local taken = take(id, account, rids)
if not taken then
    return 0
end
if #taken == 0 then
    return 1
end
if release_until == '' then
    for _, json in ipairs(taken) do
        repend_leased(account, json)
    end
    return 1
end
local oldest = first_of(taken[1])
for _, json in ipairs(taken) do
    local first = first_of(json)
    if tonumber(first) < tonumber(oldest) then
        oldest = first
    end
end
local held = new_lease(account, taken)
redis.call('HSET', key('leaseinfo', held), 'o', oldest)
redis.call('ZADD', P .. ':delayed', release_until, held)
redis.call('ZADD', key('held', account), release_until, held)
return 1

-- reject --
-- ARGV: prefix, account, lease id, now, then per record: id, version, reason. Returns 1 when
-- the lease was live, else 0.
local account, id, now = ARGV[2], ARGV[3], ARGV[4]
local rids, versions, reasons = {}, {}, {}
for i = 5, #ARGV, 3 do
    rids[#rids + 1], versions[#versions + 1], reasons[#reasons + 1] = ARGV[i], ARGV[i + 1], ARGV[i + 2]
end
local live = settle(id, account, rids, versions)
for i, rid in ipairs(rids) do
    dead_record(account, rid, versions[i], reasons[i], now)
end
return live

-- extend --
-- ARGV: prefix, lease id, now, until. Returns 0 when the lease has expired (or is gone).
local id, now, lease_until = ARGV[2], ARGV[3], ARGV[4]
local current = redis.call('ZSCORE', P .. ':live', id)
if not current or tonumber(current) <= tonumber(now) then
    return 0
end
redis.call('ZADD', P .. ':live', 'XX', lease_until, id)
return 1

-- requeue_batch --
-- ARGV: prefix, batch id, now, the failure that makes a record dead (its count), the reason
-- it is dead. Returns {how many are pending, how many dead}.
local batch, now, dead_at, reason = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local ledger = key('batch', batch)
local b = redis.call('HMGET', ledger, 'a', 'items', 'rq')
if not b[1] or b[3] then
    return {0, 0}
end
redis.call('HSET', ledger, 'rq', 1)
local account, requeued, dead = b[1], 0, 0
for rid, version in string.gmatch(b[2], '%[(%d+),(%d+)%]') do
    local r = redis.call('HMGET', key('record', rid), 'v', 'x')
    if r[1] == version then
        if tonumber(r[2]) + 1 >= dead_at then
            dead = dead + dead_record(account, rid, version, reason, now)
        elseif repend_fresh(account, rid, version) == 1 then
            redis.call('HINCRBY', key('record', rid), 'x', 1)
            requeued = requeued + 1
        end
    end
end
redis.call('HINCRBY', P .. ':sent', account, int(-(requeued + dead)))  -- never '-0'
return {requeued, dead}

-- dead_rows --
-- ARGV: prefix, now, then per row: account (optional), source, raw, reason.
local now = ARGV[2]
for i = 3, #ARGV, 4 do
    local source, raw = ARGV[i + 1], ARGV[i + 2]
    local row = source .. '\0' .. raw
    if redis.call('HEXISTS', P .. ':letters:row', row) == 0 then
        local id = add_letter(optional(ARGV[i]), {'r', ARGV[i + 3], 's', source, 'raw', raw}, now)
        redis.call('HSET', P .. ':letters:row', row, id)
    end
end
return 0

-- list_dead --
-- ARGV: prefix, account (optional), limit, after id. Returns rows of the letters' fields.
local account = optional(ARGV[2])
local index = account and key('dead', account) or (P .. ':letters')
local rows = {}
for i, id in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. ARGV[4], '+inf', 'LIMIT', 0, ARGV[3])) do
    rows[i] = {id, unpack(redis.call('HMGET', key('letter', id), 'a', 'r', 's', 'at', 'rid', 'k', 'p', 'q', 'raw'))}
end
return rows

-- replay_dead --
-- ARGV: prefix, account (optional). Returns how many dead records were queued again.
local account = optional(ARGV[2])
local letters
if account then
    letters = redis.call('ZRANGE', key('dead', account), 0, -1)
else
    letters = redis.call('HVALS', P .. ':letters:record')
end
local replayed = 0
for _, id in ipairs(letters) do
    local d = redis.call('HMGET', key('letter', id), 'rid', 'v', 'a')
    if d[1] then
        if redis.call('EXISTS', key('record', d[1])) == 1 then
            redis.call('HSET', key('record', d[1]), 'x', 0)
            repend_fresh(d[3], d[1], d[2])
        end
        drop_letter(id)
        replayed = replayed + 1
    end
end
return replayed

-- purge_dead --
-- ARGV: prefix, before ('' for all), now, the most letters to purge in this call.
reap(ARGV[3])  -- a record back from an expired lease is pending: forget_record keeps it
local newest = ARGV[2] == '' and '+inf' or '(' .. ARGV[2]
local letters = redis.call('ZRANGEBYSCORE', P .. ':letters:at', '-inf', newest, 'LIMIT', 0, ARGV[4])
for _, id in ipairs(letters) do
    local d = redis.call('HMGET', key('letter', id), 'rid', 'a')
    if d[1] then
        forget_record(d[2], d[1])
    end
    drop_letter(id)
end
return #letters

-- availability --
-- ARGV: prefix, now. Returns {account, at, ...} of every account: `at` is now where the
-- account has pending records, else the end of its earliest delay; accounts with neither are
-- left out.
local now = ARGV[2]
reap(now)
local found = {}
for _, account in ipairs(redis.call('SMEMBERS', P .. ':accounts')) do
    local at = now
    if redis.call('EXISTS', key('pending', account)) == 0 then
        at = redis.call('ZRANGE', key('held', account), 0, 0, 'WITHSCORES')[2]
    end
    if at then
        found[#found + 1] = account
        found[#found + 1] = at
    end
end
return found

-- drained --
-- ARGV: prefix, account. 1 when none of its records is pending, leased or delayed.
local account = ARGV[2]
if redis.call('EXISTS', key('pending', account), key('held', account)) > 0 then
    return 0
end
for _, id in ipairs(redis.call('ZRANGE', P .. ':live', 0, -1)) do
    if redis.call('HGET', key('leaseinfo', id), 'a') == account then
        return 0
    end
end
return 1

-- known_days --
-- ARGV: prefix, account, then the claim keys of every day of one inverter-year. Returns
-- {day, period, ...} of the stored records that are not dead letters.
local found = {}
local ckeys = {unpack(ARGV, 3)}
for i, rid in ipairs(hmget_all(key('ids', ARGV[2]), ckeys)) do
    if rid and redis.call('HEXISTS', P .. ':letters:record', rid) == 0 then
        found[#found + 1] = string.sub(ckeys[i], -10)
        found[#found + 1] = redis.call('HGET', key('record', rid), 'p')
    end
end
return found

-- in_flight --
-- ARGV: prefix, now. Records under unexpired claims.
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':live', '(' .. ARGV[2], '+inf')) do
    n = n + redis.call('HLEN', key('lease', id))
end
return n

-- counts --
-- ARGV: prefix, now. Returns {dead letters without an account, rows}, a row being
-- {account, sent, pending, leased, dead, oldest pending first_enqueued_at, {flags, count...},
-- delayed, when the first delayed is due}.
reap(ARGV[2])
local rows, by_name, dead_total = {}, {}, 0
for i, account in ipairs(redis.call('SUNION', P .. ':accounts', P .. ':letters:accounts')) do
    local pending, delayed = redis.call('ZCARD', key('pending', account)), 0
    local oldest = redis.call('ZRANGE', key('oldest', account), 0, 0)[1] or false
    for _, id in ipairs(redis.call('ZRANGE', key('held', account), 0, -1)) do
        delayed = delayed + redis.call('HLEN', key('lease', id))
        local first = redis.call('HGET', key('leaseinfo', id), 'o')
        if not oldest or tonumber(first) < tonumber(oldest) then
            oldest = first
        end
    end
    local due = redis.call('ZRANGE', key('held', account), 0, 0, 'WITHSCORES')[2] or false
    local dead = redis.call('ZCARD', key('dead', account))
    dead_total = dead_total + dead
    local sent = redis.call('HGET', P .. ':sent', account) or 0
    local flags = redis.call('HGETALL', key('flags', account))
    rows[i] = {account, sent, pending, 0, dead, oldest, flags, delayed, due}
    by_name[account] = rows[i]
end
-- A claim whose holder is no longer a live member is pending: the next to take the account
-- frees it at once; its records' age counts.
local now_ms = server_ms()
for _, id in ipairs(redis.call('ZRANGE', P .. ':live', 0, -1)) do
    local info = redis.call('HMGET', key('leaseinfo', id), 'a', 'h')
    local row = by_name[info[1]]
    if row and info[2] and not live_at(info[2], now_ms) then
        for _, json in ipairs(redis.call('HVALS', key('lease', id))) do
            local first = first_of(json)
            if not row[6] or tonumber(first) < tonumber(row[6]) then
                row[6] = first
            end
            row[3] = row[3] + 1
        end
    elseif row then
        row[4] = row[4] + redis.call('HLEN', key('lease', id))
    end
end
return {redis.call('ZCARD', P .. ':letters') - dead_total, rows}

-- ledger_awaiting --
-- ARGV: prefix, account, limit (> 0). Rows: batch id, records, sent_at, http status, process
-- id, endpoint, status, status_at; oldest first.
local rows = {}
for i, waiting in ipairs(redis.call('ZRANGE', key('awaiting', ARGV[2]), 0, tonumber(ARGV[3]) - 1)) do
    local batch = string.sub(waiting, 17)
    rows[i] = {batch, unpack(redis.call('HMGET', key('batch', batch), 'n', 'sa', 'hs', 'pid', 'ep', 'st', 'sat'))}
end
return rows

-- ledger_status --
-- ARGV: prefix, batch id, status, now, 1 when the status confirms the batch's records.
local batch, status = ARGV[2], ARGV[3]
local ledger = key('batch', batch)
local b = redis.call('HMGET', ledger, 'a', 'pid', 'sa', 'w', 'items')
if not b[1] then
    return 0
end
redis.call('HSET', ledger, 'st', status, 'sat', ARGV[4])
if ARGV[5] == '1' then
    for rid, version in string.gmatch(b[5], '%[(%d+),(%d+)%]') do
        local rec = key('record', rid)
        if redis.call('HGET', rec, 'v') == version then
            redis.call('HSET', rec, 'c', version)
        end
    end
end
if b[2] and (status == 'New' or status == 'Processing') then
    redis.call('ZADD', key('awaiting', b[1]), b[3], b[4])
else
    redis.call('ZREM', key('awaiting', b[1]), b[4])
end
return 1

-- prune_ledger --
-- ARGV: prefix, older than, the most rows to delete in this call.
local batches = redis.call('ZRANGEBYSCORE', P .. ':batches', '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])
for _, batch in ipairs(batches) do
    local ledger = key('batch', batch)
    local b = redis.call('HMGET', ledger, 'a', 'w')
    if b[1] then
        redis.call('ZREM', key('awaiting', b[1]), b[2])
    end
    redis.call('UNLINK', ledger)
    redis.call('ZREM', P .. ':batches', batch)
end
return #batches

-- records_between --
-- ARGV: prefix, account, first day, last day, now, then either 'keys' and claim keys (one
-- inverter's days), or 'scan', an HSCAN cursor of P:ids:<account>, a count and a MATCH
-- pattern (a superset of the range's days). Returns {the
-- next cursor ('0': done; keys: ''), rows}, a row being {id, version, claim key, period,
-- accumulated, state} for each record found whose day is in the range.
local account, first, last = ARGV[2], ARGV[3], ARGV[4]
reap(ARGV[5])
local ids = key('ids', account)
local found, after = {}, ''
if ARGV[6] == 'keys' then
    local ckeys = {}
    for i = 7, #ARGV do
        ckeys[#ckeys + 1] = ARGV[i]
    end
    for i, rid in ipairs(hmget_all(ids, ckeys)) do
        if rid then
            found[#found + 1] = {ckeys[i], rid}
        end
    end
else
    local reply = redis.call('HSCAN', ids, ARGV[7], 'MATCH', ARGV[9], 'COUNT', ARGV[8])
    after = reply[1]
    for i = 1, #reply[2], 2 do
        local day = string.sub(reply[2][i], -10)
        if day >= first and day <= last then
            found[#found + 1] = {reply[2][i], reply[2][i + 1]}
        end
    end
end
local live, held = leased_refs(account)
local rows = {}
for _, entry in ipairs(found) do
    local ckey, rid = entry[1], entry[2]
    local r = redis.call('HMGET', key('record', rid), 'v', 'p', 'q', 'c')
    if r[1] then
        local ref, state = rid .. ':' .. r[1], 'sent'
        if held[ref] or pending_of(account, ckey) then
            state = 'pending'
        elseif live[ref] then
            state = 'leased'
        elseif redis.call('HEXISTS', P .. ':letters:record', rid) == 1 then
            state = 'dead'
        elseif r[4] == r[1] then
            state = 'confirmed'
        end
        rows[#rows + 1] = {rid, r[1], ckey, r[2], r[3], state}
    end
end
return {after, rows}

-- requeue --
-- ARGV: prefix, account, now, then per record: id, version. Pends each record of the account
-- whose value is still that version and that is neither pending, leased nor dead; drops its
-- confirmation. Returns how many.
local account = ARGV[2]
reap(ARGV[3])
local live, held = leased_refs(account)
local ids, requeued = key('ids', account), 0
for i = 4, #ARGV, 2 do
    local rid, version = ARGV[i], ARGV[i + 1]
    local ref, rec = rid .. ':' .. version, key('record', rid)
    local ckey = redis.call('HGET', rec, 'k')
    local mine = ckey and redis.call('HGET', ids, ckey) == rid
    local dead = redis.call('HEXISTS', P .. ':letters:record', rid) == 1
    if mine and not (live[ref] or held[ref] or dead) and repend_fresh(account, rid, version) == 1 then
        redis.call('HDEL', rec, 'c')
        requeued = requeued + 1
    end
end
return requeued

-- awaiting_items --
-- ARGV: prefix, account. The items ([[id,version],...]) of the account's ledger rows that
-- await a final status.
local items = {}
for i, waiting in ipairs(redis.call('ZRANGE', key('awaiting', ARGV[2]), 0, -1)) do
    items[i] = redis.call('HGET', key('batch', string.sub(waiting, 17)), 'items')
end
return items

-- deadlines --
-- ARGV: prefix, today, the day after the cutoff (both 8-digit deadline keys: members compare
-- by their leading deadline). Rows {account, pending closing from today to the cutoff,
-- pending closed before today, the least deadline from today on (or false)}.
local today, after = ARGV[2], ARGV[3]
local rows = {}
for _, account in ipairs(redis.call('SMEMBERS', P .. ':accounts')) do
    local pending = key('pending', account)
    if redis.call('EXISTS', pending) == 1 then
        local head = redis.call('ZRANGEBYLEX', pending, '[' .. today, '+', 'LIMIT', 0, 1)[1]
        rows[#rows + 1] = {
            account,
            redis.call('ZLEXCOUNT', pending, '[' .. today, '(' .. after),
            redis.call('ZLEXCOUNT', pending, '-', '(' .. today),
            head and string.sub(head, 1, 8) or false,
        }
    end
end
return rows
