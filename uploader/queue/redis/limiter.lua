-- The limiter's scripts (queue/slots.py), loaded beside scripts.lua: its `common` comes first.
-- Layout (P = the prefix):
--   P:slots:<owner>  ZSET member key \0 slot -> until: the limiter's history, one owner's slots
--                    (an account id, or ip@host), each dropped once its until has passed
--   P:flight:<name>  ZSET slot -> until: a shared budget's slots taken and not answered yet
--                    (counting until then should their process die)
--   P:cooling:<name> ZSET slot -> free time: its answered slots, cooling one window
-- Every ZSET lives until its last time has passed, so the keys of a process nobody restarts,
-- or of a budget nobody uses any more, go away on their own.

-- common --
local function expire_after_last(zset, now)
    local last = redis.call('ZRANGE', zset, -1, -1, 'WITHSCORES')
    if last[2] then
        redis.call('PEXPIRE', zset, int(math.ceil((tonumber(last[2]) - now) * 1000) + 1000))
    end
end

-- slots_put --
-- ARGV: prefix, now, then owner, key, slot, until per slot.
local now = tonumber(ARGV[2])
local touched, order = {}, {}
for i = 3, #ARGV, 4 do
    local zset = key('slots', ARGV[i])
    redis.call('ZADD', zset, ARGV[i + 3], ARGV[i + 1] .. '\0' .. ARGV[i + 2])
    if not touched[zset] then
        touched[zset] = true
        order[#order + 1] = zset
    end
end
for _, zset in ipairs(order) do
    redis.call('ZREMRANGEBYSCORE', zset, '-inf', ARGV[2])
    expire_after_last(zset, now)
end
return 0

-- slots_of --
-- ARGV: prefix, now, owners. Returns owner, member, until of every slot that still counts.
local out = {}
for i = 3, #ARGV do
    local zset = key('slots', ARGV[i])
    local found = redis.call('ZRANGEBYSCORE', zset, '(' .. ARGV[2], '+inf', 'WITHSCORES')
    for j = 1, #found, 2 do
        out[#out + 1] = ARGV[i]
        out[#out + 1] = found[j]
        out[#out + 1] = found[j + 1]
    end
end
return out

-- budget_take --
-- ARGV: prefix, name, limit, now, slot, until, window. Returns '' when the slot is taken, else
-- the earliest time a slot may free: the first cooling one's, or, for one still in flight
-- (answered now at the soonest), now + window.
local flight, cooling = key('flight', ARGV[2]), key('cooling', ARGV[2])
local now = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', flight, '-inf', ARGV[4])
redis.call('ZREMRANGEBYSCORE', cooling, '-inf', ARGV[4])
local flying = redis.call('ZCARD', flight)
if flying + redis.call('ZCARD', cooling) < tonumber(ARGV[3]) then
    redis.call('ZADD', flight, ARGV[6], ARGV[5])
    expire_after_last(flight, now)
    return ''
end
local wake = math.huge
local first = redis.call('ZRANGE', cooling, 0, 0, 'WITHSCORES')
if first[2] then
    wake = tonumber(first[2])
end
if flying > 0 then
    first = redis.call('ZRANGE', flight, 0, 0, 'WITHSCORES')
    wake = math.min(wake, tonumber(first[2]), now + tonumber(ARGV[7]))
end
return string.format('%.17g', wake)

-- budget_settle --
-- ARGV: prefix, name, now, then slot and free time per slot ('': never sent, free at once).
local flight, cooling = key('flight', ARGV[2]), key('cooling', ARGV[2])
for i = 4, #ARGV, 2 do
    redis.call('ZREM', flight, ARGV[i])
    if ARGV[i + 1] ~= '' then
        redis.call('ZADD', cooling, ARGV[i + 1], ARGV[i])
    end
end
expire_after_last(cooling, tonumber(ARGV[3]))
return 0
