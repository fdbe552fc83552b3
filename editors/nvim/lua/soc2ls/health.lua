-- :checkhealth soc2ls. Neovim 0.7 and 0.8 report through health#report_*
-- (the `health` Lua module wraps them); 0.9 and later have vim.health.ok and
-- friends, and 0.11 dropped the report_* names.
local M = {}

local health = vim.health or require("health")
local report = {
  start = health.start or health.report_start,
  ok = health.ok or health.report_ok,
  info = health.info or health.report_info,
  warn = health.warn or health.report_warn,
  error = health.error or health.report_error,
}

-- How long the probe waits for each answer of the server. The server answers
-- initialize at once; the bound only keeps :checkhealth from hanging on a
-- command that is not a language server.
M.probe_timeout_ms = 10000

local function frame(msg)
  local body = vim.json.encode(msg)
  return string.format("Content-Length: %d\r\n\r\n%s", #body, body)
end

-- take removes and returns the first whole message of buf.data, or nil.
local function take(buf)
  local head_end = buf.data:find("\r\n\r\n", 1, true)
  if not head_end then
    return nil
  end
  local len = tonumber(buf.data:sub(1, head_end):match("[Cc]ontent%-[Ll]ength: *(%d+)"))
  if not len then
    buf.bad = "a reply without Content-Length: " .. vim.inspect(buf.data:sub(1, 80))
    return nil
  end
  if #buf.data < head_end + 3 + len then
    return nil
  end
  local body = buf.data:sub(head_end + 4, head_end + 3 + len)
  buf.data = buf.data:sub(head_end + 4 + len)
  local ok, msg = pcall(vim.json.decode, body)
  if not ok then
    buf.bad = "a reply that is not JSON: " .. vim.inspect(body:sub(1, 80))
    return nil
  end
  return msg
end

--- Starts cmd, sends initialize (with settings as initializationOptions),
--- shutdown and exit, each answer awaited at most timeout_ms, and returns
--- { result = initialize's result, messages = the window/showMessage
--- texts, code = the exit code } or nil and what went wrong.
function M.probe(cmd, settings, timeout_ms)
  local uv = vim.loop
  local stdin, stdout, stderr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local out, errout = { data = "" }, { data = "" }
  local exited, code
  local args = {}
  for i = 2, #cmd do
    args[#args + 1] = cmd[i]
  end
  local handle, spawn_err = uv.spawn(cmd[1], { args = args, stdio = { stdin, stdout, stderr } }, function(c)
    exited, code = true, c
  end)
  if not handle then
    for _, p in ipairs({ stdin, stdout, stderr }) do
      p:close()
    end
    return nil, "could not start " .. table.concat(cmd, " ") .. ": " .. tostring(spawn_err)
  end
  stdout:read_start(function(_, data)
    if data then
      out.data = out.data .. data
    end
  end)
  stderr:read_start(function(_, data)
    if data then
      errout.data = errout.data .. data
    end
  end)
  local messages, replies = {}, {}
  -- pump decodes what has arrived; it runs in vim.wait's predicate, on the
  -- main loop, never in a libuv callback.
  local function pump()
    while true do
      local msg = take(out)
      if not msg then
        return
      end
      if msg.method == "window/showMessage" and msg.params then
        messages[#messages + 1] = msg.params
      elseif msg.id ~= nil and msg.method == nil then
        replies[msg.id] = msg
      end
    end
  end
  local function await(id)
    vim.wait(timeout_ms, function()
      pump()
      return replies[id] ~= nil or exited or out.bad ~= nil
    end, 10)
    pump()
    return replies[id]
  end
  local function finish(res, err)
    if not exited then
      handle:kill("sigterm")
    end
    vim.wait(1000, function()
      return exited
    end, 10)
    for _, p in ipairs({ stdin, stdout, stderr }) do
      if not p:is_closing() then
        p:close()
      end
    end
    if not handle:is_closing() then
      handle:close()
    end
    if err and errout.data ~= "" then
      err = err .. "; its standard error: " .. vim.trim(errout.data):sub(1, 500)
    end
    return res, err
  end

  stdin:write(frame({
    jsonrpc = "2.0",
    id = 1,
    method = "initialize",
    params = {
      processId = uv.os_getpid(),
      rootUri = vim.NIL,
      capabilities = vim.empty_dict(),
      initializationOptions = settings,
    },
  }))
  local init = await(1)
  if not init then
    local why = out.bad
      or (exited and ("it exited with code " .. tostring(code)))
      or ("no answer within " .. timeout_ms .. " ms")
    return finish(nil, "initialize got no reply: " .. why)
  end
  if init.error then
    return finish(nil, "initialize failed: " .. vim.inspect(init.error))
  end
  stdin:write(frame({ jsonrpc = "2.0", method = "initialized", params = vim.empty_dict() }))
  stdin:write(frame({ jsonrpc = "2.0", id = 2, method = "shutdown" }))
  local down = await(2)
  if not down then
    return finish(nil, "shutdown got no reply")
  end
  stdin:write(frame({ jsonrpc = "2.0", method = "exit" }))
  vim.wait(timeout_ms, function()
    return exited
  end, 10)
  if not exited then
    return finish(nil, "the server did not exit after shutdown and exit")
  end
  pump()
  return finish({ result = init.result, messages = messages, code = code })
end

--- Runs cmd, waiting at most timeout_ms, and returns its trimmed output
--- (standard output and error) and exit code, -1 when it did not finish in
--- time (it is then stopped).
function M.run(cmd, timeout_ms)
  local chunks = {}
  local function collect(_, data)
    for _, l in ipairs(data) do
      chunks[#chunks + 1] = l
    end
  end
  local ok, job = pcall(vim.fn.jobstart, cmd, {
    on_stdout = collect,
    on_stderr = collect,
    stdout_buffered = true,
    stderr_buffered = true,
  })
  if not ok or job <= 0 then
    return "could not start: " .. tostring(job), 127
  end
  local code = vim.fn.jobwait({ job }, timeout_ms)[1]
  if code == -1 then
    vim.fn.jobstop(job)
  end
  return vim.trim(table.concat(chunks, "\n")), code
end

local function capabilities_summary(caps)
  local have = {}
  for _, c in ipairs({
    { "codeActionProvider", "code actions" },
    { "hoverProvider", "hover" },
    { "definitionProvider", "definition" },
    { "renameProvider", "rename" },
    { "completionProvider", "completion" },
  }) do
    if caps[c[1]] then
      have[#have + 1] = c[2]
    end
  end
  return table.concat(have, ", ")
end

-- enabled_config returns the soc2ls configuration of vim.lsp.config
-- (Neovim 0.11+) when it has a command list, else nil.
local function enabled_config()
  if type(vim.lsp.config) ~= "table" and type(vim.lsp.config) ~= "function" then
    return nil
  end
  local ok, c = pcall(function()
    return vim.lsp.config.soc2ls
  end)
  if ok and type(c) == "table" and type(c.cmd) == "table" and #c.cmd > 0 then
    return c
  end
  return nil
end

--- The health check.
function M.check()
  local soc2ls = require("soc2ls")
  report.start("soc2ls")
  if vim.fn.has("nvim-0.7") == 1 then
    local v = vim.version()
    report.ok(string.format("Neovim %d.%d.%d", v.major, v.minor, v.patch))
  else
    report.error("Neovim 0.7 or later is required")
  end
  local opts = soc2ls.options()
  local cmd, section = opts.cmd, soc2ls.section(opts)
  local enabled = not soc2ls.is_setup() and enabled_config()
  if soc2ls.is_setup() then
    report.info("configured by setup(); filetypes: " .. table.concat(opts.filetypes, ", ")
      .. "; root markers: " .. table.concat(opts.root_markers, ", "))
  elseif enabled then
    report.info("configured by vim.lsp.config('soc2ls')")
    cmd = enabled.cmd
    section = soc2ls.section({ settings = (enabled.settings or {}).soc2ls })
  else
    report.info("neither setup() nor vim.lsp.config('soc2ls') configures soc2ls: checking the defaults")
  end
  local exe = vim.fn.exepath(cmd[1])
  if exe == "" then
    report.error(cmd[1] .. " is not an executable on PATH", {
      "install it: go install github.com/soc2ls/soc2ls/cmd/soc2ls@latest, and put $(go env GOPATH)/bin on PATH",
      "or give the full path: require('soc2ls').setup({ cmd = { '/path/to/soc2ls', 'serve' } })",
    })
    return
  end
  report.ok("command: " .. table.concat(cmd, " ") .. " (" .. exe .. ")")

  local version, code = M.run({ exe, "version" }, M.probe_timeout_ms)
  if code ~= 0 then
    local why = code == -1 and ("no answer within " .. M.probe_timeout_ms .. " ms") or ("exit code " .. code)
    report.error("`" .. exe .. " version` failed (" .. why .. "): " .. version, {
      "is this the soc2ls language server? `soc2ls version` should print its version",
    })
  else
    report.ok("version: " .. version)
  end

  report.info("settings: " .. vim.json.encode(section))
  local probe_cmd = vim.deepcopy(cmd)
  probe_cmd[1] = exe
  local res, err = M.probe(probe_cmd, section, M.probe_timeout_ms)
  if not res then
    report.error("the server did not start: " .. err, {
      "run `" .. table.concat(cmd, " ") .. " --log-level debug` in a terminal to see its log",
    })
    return
  end
  local info = res.result.serverInfo or {}
  report.ok(string.format("the server answers initialize (%s %s; %s)",
    tostring(info.name or "?"), tostring(info.version or "?"),
    capabilities_summary(res.result.capabilities or {})))
  for _, m in ipairs(res.messages) do
    if m.type == 1 or m.type == 2 then
      report.warn("the server says: " .. tostring(m.message), { "fix the settings (:help soc2ls-options)" })
    end
  end
  if res.code == 0 then
    report.ok("the server shuts down cleanly (exit code 0)")
  else
    report.warn("the server exited with code " .. tostring(res.code) .. " after shutdown and exit")
  end

  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local running = {}
  for _, c in ipairs(get()) do
    if c.name == "soc2ls" then
      running[#running + 1] = tostring(c.id) .. " (" .. tostring(c.config.root_dir) .. ")"
    end
  end
  if #running > 0 then
    report.info("running clients: " .. table.concat(running, ", "))
  else
    report.info("no soc2ls client is running: open a YAML or JSON template")
  end
  local log_path = (vim.lsp.log and vim.lsp.log.get_filename) or vim.lsp.get_log_path
  report.info("LSP log: " .. log_path())
end

return M
