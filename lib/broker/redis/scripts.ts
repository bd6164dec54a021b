/**
 * Every Lua script the Redis transport and result backend run, in one place so one command
 * connection can carry them all (a worker's acks, pops, events and result stores of one loop
 * turn then leave in one socket write).
 */
import type { Redis } from "ioredis";

/**
 * One loop turn's Redis work in one script on the command connection: acks queued this turn
 * (ZREM + HDEL), then pop up to `need` messages draining the lists in KEYS order (priority
 * order), recording each in unacked/unacked_index before it leaves Redis (kombu's MULTI, done
 * atomically with the pop: nothing popped is ever unrecorded). The unacked value is kombu's
 * `[message, exchange, routing_key]` built around the raw message, so it is never re-sent.
 * A message recorded here has a string delivery tag and an exchange/routing key spelled with
 * plain characters; anything else (not JSON, no tag, odd names) comes back unrecorded and the
 * client records or rejects it as before. Plain RPOP in a loop: runs on Redis < 7 too.
 * KEYS: unacked_index, unacked, list keys.  ARGV: now, need, nAcks, ack tags…, then per list
 * key its queue name as a JSON string.  Returns [list index (1-based), message, tag if recorded else '', …].
 */
const TURN_LUA = `
local need = tonumber(ARGV[2])
local nacks = tonumber(ARGV[3])
-- Many members per call (a call costs ~1 µs of its own), in chunks that keep clear of unpack()'s limit.
local CHUNK = 500
for i = 4, 3 + nacks, CHUNK do
  local j = math.min(i + CHUNK - 1, 3 + nacks)
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, j))
  redis.call('HDEL', KEYS[2], unpack(ARGV, i, j))
end
local qbase = 1 + nacks
local zargs, hargs = {}, {}
local out = {}
local function plain(s) return type(s) == 'string' and not string.find(s, '[^%w%.%-_:@]') end
-- kombu's own layout (ours or Python's spacing), read from the message's tail without decoding
-- it (cjson cost ~12 µs a message, this ~4): properties last, delivery_tag last in them.
-- Plain finds and anchored matches only (an unanchored Lua pattern tries every position).
-- Quotes inside JSON strings are escaped, so these only match real keys; the last
-- delivery_info is the one in properties. Anything else (or odd names) goes to cjson.
-- Returns tag, exchange, routing key, or nil.
local function fast(v)
  if string.sub(v, 1, 8) ~= '{"body":' then return nil end
  local n = #v
  local from = n - 80
  if from < 1 then from = 1 end
  local p = string.find(v, '"delivery_tag":', from, true)
  if not p then return nil end
  local tag = string.match(v, '^ ?"([%w%-]+)"}}$', p + 15)
  if not tag then return nil end
  local ex, rk
  local init = n - 600
  if init < 1 then init = 1 end
  while true do
    local q = string.find(v, '"delivery_info":', init, true)
    if not q then break end
    local x, r = string.match(v, '^ ?{"exchange": ?"([%w%.%-_:@]*)", ?"routing_key": ?"([%w%.%-_:@]*)"}', q + 16)
    if x then ex, rk = x, r end
    init = q + 16
  end
  if not ex then return nil end
  if ex == '' then rk = nil end
  return tag, ex, rk
end
for k = 3, #KEYS do
  while need > 0 do
    local v = redis.call('RPOP', KEYS[k])
    if not v then break end
    local recorded = ''
    local tag, ex, rk = fast(v)
    if not tag then
      local ok, m = pcall(cjson.decode, v)
      if ok and type(m) == 'table' and type(m['body']) == 'string' and type(m['properties']) == 'table' then
        local p = m['properties']
        local di = p['delivery_info']
        tag, ex = p['delivery_tag'], ''
        if type(di) == 'table' and type(di['exchange']) == 'string' then ex = di['exchange'] end
        if ex ~= '' and type(di['routing_key']) == 'string' then rk = di['routing_key'] end
      end
    end
    if tag then
      if type(tag) == 'string' and tag ~= '' and plain(ex) and (rk == nil or plain(rk)) then
        local rkjson = rk and ('"' .. rk .. '"') or ARGV[qbase + k]
        zargs[#zargs + 1] = ARGV[1]
        zargs[#zargs + 1] = tag
        hargs[#hargs + 1] = tag
        hargs[#hargs + 1] = '[' .. v .. ', "' .. ex .. '", ' .. rkjson .. ']'
        recorded = tag
      end
    end
    out[#out + 1] = k - 2
    out[#out + 1] = v
    out[#out + 1] = recorded
    need = need - 1
  end
  if need == 0 then break end
end
-- Recorded in the same atomic script as the pops: nothing popped is ever unrecorded.
for i = 1, #zargs, 2 * CHUNK do
  local j = math.min(i + 2 * CHUNK - 1, #zargs)
  redis.call('ZADD', KEYS[1], unpack(zargs, i, j))
  redis.call('HSET', KEYS[2], unpack(hargs, i, j))
end
return out`;

/**
 * What kombu's MULTI does (ZADD unacked_index + HSET unacked, or ZREM + HDEL on ack), as one
 * script: as atomic, but an EVALSHA joins the command connection's auto-pipeline where a MULTI
 * costs a socket write of its own. Per-entry calls keep clear of Lua's unpack() limit.
 */
const RECORD_UNACKED_LUA = `
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1`;
// Acks alone (sent while two turn scripts are in flight, so on the hot path): many members per
// call, in the turn script's chunks.
const ACK_LUA = `
for i = 1, #ARGV, 500 do
  local j = math.min(i + 499, #ARGV)
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, j))
  redis.call('HDEL', KEYS[2], unpack(ARGV, i, j))
end
return 1`;

/**
 * GET-check + SETEX + PUBLISH as Celery's backend does it (never over a stored SUCCESS), for
 * every result stored in one loop turn, in one script. cjson parses what Python or we wrote; an
 * unreadable value is overwritten, as before. KEYS: result keys.  ARGV: ttl, json per key.
 */
const STORE_RESULTS_LUA = `
local stored = 0
for i = 1, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  local done = false
  if cur then
    local ok, v = pcall(cjson.decode, cur)
    done = ok and type(v) == 'table' and v['status'] == 'SUCCESS'
  end
  if not done then
    redis.call('SETEX', KEYS[i], ARGV[2 * i - 1], ARGV[2 * i])
    redis.call('PUBLISH', KEYS[i], ARGV[2 * i])
    stored = stored + 1
  end
end
return stored
`;

export type ScriptCommands = Redis & {
  petalRecordUnacked(index: string, hash: string, score: number, ...tagValue: string[]): Promise<number>;
  petalAck(index: string, hash: string, ...tags: string[]): Promise<number>;
  petalTurn(numKeys: number, ...args: (string | number)[]): Promise<(string | number)[]>;
  petalStoreResults(numKeys: number, ...keysThenTtlJson: (string | number)[]): Promise<number>;
};

/**
 * Define every script on a command connection. Call it once right after creating the
 * connection: an auto-pipeline opened before the definition would not know the commands.
 */
export function defineScripts(cmd: Redis): ScriptCommands {
  cmd.defineCommand("petalRecordUnacked", { numberOfKeys: 2, lua: RECORD_UNACKED_LUA });
  cmd.defineCommand("petalAck", { numberOfKeys: 2, lua: ACK_LUA });
  cmd.defineCommand("petalTurn", { lua: TURN_LUA });
  cmd.defineCommand("petalStoreResults", { lua: STORE_RESULTS_LUA });
  return cmd as ScriptCommands;
}

export function scriptCommands(cmd: Redis): ScriptCommands {
  return cmd as ScriptCommands;
}

