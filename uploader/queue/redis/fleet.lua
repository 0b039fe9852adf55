-- The fleet's scripts: replicas sharing the accounts of one queue (see leases.py). Loaded with
-- scripts.lua, whose `common` helpers they use (ARGV[1] is the key prefix there too).
--
-- Liveness is the server's clock (TIME), never a replica's: replicas' clocks may differ, and
-- the other scripts' times (the client's, as text) are for records, not for members.
-- Layout (P = the prefix):
--   P:identity     STRING made once with the queue (SET NX on open): a running replica that
--                  finds it gone or changed knows the data it served vanished
--   P:members      ZSET replica id -> until when it is live (server ms); renewed by heartbeat
--   P:member:<id>  STRING the accounts the replica is configured with (JSON array)
--   P:owners       HASH account -> "<replica id> <epoch>": the account's lease; its holder
--                  serves it while it is a live member (no TTL: a dead holder's entry is how
--                  the next one finds the claims to free)
--   P:seq epoch    the last epoch handed out (a new one at every take)
-- A claim made under an account lease names its holder (P:leaseinfo:<id> field h), so taking
-- the account frees at once the claims of a holder that died, and `counts` reads a dead
-- holder's claims as pending.

-- identity --
-- ARGV: prefix, a new identity. Returns the queue's identity (this one if there was none).
redis.call('SET', P .. ':identity', ARGV[2], 'NX')
return redis.call('GET', P .. ':identity')

-- heartbeat --
-- ARGV: prefix, replica id, time to live (ms), its accounts (JSON), then the accounts whose
-- owners to read. Forgets the members that are no longer live, renews this one. Returns
-- {identity or false, {id, accounts JSON, ...} of the live members, {owner or false, ...}}.
local me, ttl = ARGV[2], tonumber(ARGV[3])
local now = server_ms()
local members = P .. ':members'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', members, '-inf', now)) do
    redis.call('ZREM', members, id)
    redis.call('DEL', key('member', id))
end
redis.call('ZADD', members, now + ttl, me)
redis.call('SET', key('member', me), ARGV[4], 'PX', ttl * 10)
local live = {}
for _, id in ipairs(redis.call('ZRANGE', members, 0, -1)) do
    live[#live + 1] = id
    live[#live + 1] = redis.call('GET', key('member', id)) or '[]'
end
local owners = {}
for i = 5, #ARGV do
    owners[#owners + 1] = redis.call('HGET', P .. ':owners', ARGV[i]) or false
end
return {redis.call('GET', P .. ':identity') or false, live, owners}

-- acquire --
-- ARGV: prefix, replica id, accounts... Takes each account's lease when it is free, held by a
-- member that is no longer live, or already this replica's (after this one's own lapse), and
-- only while this replica is live itself; every claim made under an earlier lease of the
-- account goes back to pending (its holder is dead, or stopped serving it). Returns per
-- account {1, the lease's token, records freed} or {0, the live holder ('': this replica is
-- not live)}.
local me = ARGV[2]
local now = server_ms()
local taken = {}
for i = 3, #ARGV do
    local account = ARGV[i]
    local owner = redis.call('HGET', P .. ':owners', account)
    local holder = owner and holder_of(owner)
    if not live_at(me, now) then
        taken[#taken + 1] = {0, ''}
    elseif holder and holder ~= me and live_at(holder, now) then
        taken[#taken + 1] = {0, holder}
    else
        local token = me .. ' ' .. int(redis.call('HINCRBY', P .. ':seq', 'epoch', 1))
        redis.call('HSET', P .. ':owners', account, token)
        taken[#taken + 1] = {1, token, free_claims(account, nil)}
    end
end
return taken

-- give_back --
-- ARGV: prefix, replica id, 1 to leave the fleet too, then account and token pairs. Gives back
-- each lease still held under its token, its claims pending again. Returns the records freed.
local me = ARGV[2]
local freed = 0
for i = 4, #ARGV, 2 do
    local account = ARGV[i]
    if redis.call('HGET', P .. ':owners', account) == ARGV[i + 1] then
        redis.call('HDEL', P .. ':owners', account)
        freed = freed + free_claims(account, me)
    end
end
if ARGV[3] == '1' then
    redis.call('ZREM', P .. ':members', me)
    redis.call('DEL', key('member', me))
end
return freed
