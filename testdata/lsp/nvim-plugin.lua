-- The Neovim plugin's own behaviour (editors/nvim), in headless Neovim with
-- `soc2ls` on PATH, run by TestNeovimPlugin (editors):
--   WORK=/empty/dir nvim --headless --clean -u NONE --cmd 'set rtp^=editors/nvim' \
--     -c 'luafile testdata/lsp/nvim-plugin.lua'
-- Option errors, root directories, one client per root, setup() after the
-- buffer is open, buffers that are not files, a YAML file that is not
-- CloudFormation, and :checkhealth soc2ls when things are wrong. Prints
-- "PASS" or "FAIL: ..." and quits; every wait is bounded.
local work = os.getenv("WORK")
local WAIT = 20000
local soc2ls = require("soc2ls")

local FAILED = {}
local function check(ok, msg, ...)
  if not ok then
    local extra = {}
    for _, x in ipairs({ ... }) do
      extra[#extra + 1] = type(x) == "string" and x or vim.inspect(x)
    end
    error({ FAILED, msg .. (#extra > 0 and ("\n" .. table.concat(extra, "\n")) or "") })
  end
end

local function messages()
  if vim.api.nvim_exec2 then
    return vim.api.nvim_exec2("messages", { output = true }).output
  end
  return vim.api.nvim_exec("messages", true)
end

local function write(path, text)
  vim.fn.mkdir(vim.fn.fnamemodify(path, ":h"), "p")
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
local function client_of(buf)
  for _, c in ipairs(get_clients()) do
    if c.name == "soc2ls" and vim.lsp.buf_is_attached(buf, c.id) then
      return c
    end
  end
end

local function health()
  vim.cmd("checkhealth soc2ls")
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("tabclose")
  return report
end

local TEMPLATE = [[
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: audit-logs
      IsMultiRegionTrail: false
]]

local MANIFEST = [[
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  environment: production
]]

local function options()
  -- Each mistake is an error that names it.
  for _, case in ipairs({
    { { cmd = "soc2ls" }, "cmd must be a non-empty list of strings" },
    { { cmd = {} }, "cmd must be a non-empty list of strings" },
    { { filetype = { "yaml" } }, 'unknown option "filetype"' },
    { { diagnostics_delay = -1 }, "diagnostics_delay must be a number of milliseconds from 0 to 60000" },
    { { diagnostics_delay = "fast" }, "diagnostics_delay must be a number" },
    { { settings = { soc2ls = {} } }, "settings are the soc2ls section itself" },
    { { settings = "rules" }, "settings must be a table" },
    { { on_attach = true }, "on_attach must be a function" },
    { { root_markers = ".git" }, "root_markers must be a list of strings" },
    { "yes", "options must be a table" },
  }) do
    local ok, err = pcall(soc2ls.setup, case[1])
    check(not ok, "setup accepted " .. vim.inspect(case[1]))
    check(tostring(err):find("soc2ls.setup: " .. case[2], 1, true),
      "setup(" .. vim.inspect(case[1]) .. ") said: " .. tostring(err))
  end
  check(not soc2ls.is_setup(), "a failed setup() counts as done")
end

local function roots()
  -- The nearest marker wins; without one, the file's directory.
  write(work .. "/repo/.git/HEAD", "ref: refs/heads/main\n")
  write(work .. "/repo/stacks/net/vpc.yaml", TEMPLATE)
  write(work .. "/repo/infra/.soc2ls.yaml", "{}\n")
  write(work .. "/repo/infra/deep/app.yaml", TEMPLATE)
  write(work .. "/loose/one.yaml", TEMPLATE)
  for file, want in pairs({
    ["/repo/stacks/net/vpc.yaml"] = "/repo",
    ["/repo/infra/deep/app.yaml"] = "/repo/infra",
    ["/loose/one.yaml"] = "/loose",
  }) do
    local got = soc2ls.root_dir(work .. file)
    check(got == work .. want, "the root of " .. file .. " is " .. got .. ", want " .. work .. want)
  end
  check(soc2ls.root_dir(work .. "/loose/one.yaml", { "nothing-here" }) == work .. "/loose", "root without markers")
end

local function clients()
  -- A buffer open before setup() is attached by it.
  vim.cmd("edit " .. vim.fn.fnameescape(work .. "/repo/stacks/net/vpc.yaml"))
  local vpc = vim.api.nvim_get_current_buf()
  check(client_of(vpc) == nil, "attached before setup()")
  local attached = {}
  soc2ls.setup({
    diagnostics_delay = 0,
    cmd_env = { SOC2LS_PLUGIN_TEST = "1" },
    on_attach = function(client, bufnr)
      attached[#attached + 1] = { client = client.id, buf = bufnr }
    end,
  })
  check(vim.wait(WAIT, function() return client_of(vpc) ~= nil end, 20), "setup() did not attach the open buffer")
  local first = client_of(vpc)
  check(first.config.root_dir == work .. "/repo", "root_dir " .. tostring(first.config.root_dir))
  check(first.config.cmd_env and first.config.cmd_env.SOC2LS_PLUGIN_TEST == "1",
    "cmd_env not passed", first.config.cmd_env)
  check(vim.wait(WAIT, function() return #vim.diagnostic.get(vpc) > 0 end, 20), "no diagnostics for vpc.yaml")

  -- A Kubernetes manifest in the same root: the same client, and no
  -- diagnostics once the server has looked at it (documentSymbol waits for
  -- the analysis of the current text).
  write(work .. "/repo/k8s/configmap.yaml", MANIFEST)
  vim.cmd("edit " .. vim.fn.fnameescape(work .. "/repo/k8s/configmap.yaml"))
  local cm = vim.api.nvim_get_current_buf()
  check(vim.wait(WAIT, function() return client_of(cm) ~= nil end, 20), "the manifest is not attached")
  check(client_of(cm).id == first.id, "a second client for the same root")
  vim.lsp.buf_request_sync(cm, "textDocument/documentSymbol", { textDocument = { uri = vim.uri_from_bufnr(cm) } }, WAIT)
  check(#vim.diagnostic.get(cm) == 0, "diagnostics on a Kubernetes manifest", vim.diagnostic.get(cm))

  -- Another root, another client.
  vim.cmd("edit " .. vim.fn.fnameescape(work .. "/repo/infra/deep/app.yaml"))
  local app = vim.api.nvim_get_current_buf()
  check(vim.wait(WAIT, function() return client_of(app) ~= nil end, 20), "app.yaml is not attached")
  check(client_of(app).id ~= first.id, "app.yaml shares the client of another root")
  check(client_of(app).config.root_dir == work .. "/repo/infra",
    "root_dir " .. tostring(client_of(app).config.root_dir))
  check(#attached == 3, "on_attach calls", attached)

  -- JSON, by filetype.
  write(work .. "/repo/stacks/trail.json", vim.json.encode({
    AWSTemplateFormatVersion = "2010-09-09",
    Resources = {
      Trail = {
        Type = "AWS::CloudTrail::Trail",
        Properties = { IsLogging = true, S3BucketName = "logs", IsMultiRegionTrail = false },
      },
    },
  }))
  vim.cmd("edit " .. vim.fn.fnameescape(work .. "/repo/stacks/trail.json"))
  local json = vim.api.nvim_get_current_buf()
  check(vim.wait(WAIT, function()
    for _, d in ipairs(vim.diagnostic.get(json)) do
      if d.code == "SOC2-CT-001" then return true end
    end
    return false
  end, 20), "no SOC2-CT-001 on the JSON template", vim.diagnostic.get(json))
  check(client_of(json).id == first.id, "the JSON file has its own client")

  -- Buffers that are not files are left alone.
  local scratch = vim.api.nvim_create_buf(true, true)
  vim.api.nvim_buf_set_name(scratch, work .. "/scratch.yaml")
  vim.bo[scratch].filetype = "yaml"
  check(soc2ls.attach(scratch) == nil and client_of(scratch) == nil, "a nofile buffer was attached")
  local unnamed = vim.api.nvim_create_buf(true, false)
  vim.bo[unnamed].filetype = "yaml"
  check(soc2ls.attach(unnamed) == nil and client_of(unnamed) == nil, "an unnamed buffer was attached")

  for _, c in ipairs(get_clients()) do
    if c.name == "soc2ls" then
      if vim.fn.has("nvim-0.11") == 1 then c:stop() else vim.lsp.stop_client(c.id) end
    end
  end
  check(vim.wait(WAIT, function()
    for _, c in ipairs(get_clients()) do
      if c.name == "soc2ls" then return false end
    end
    return true
  end, 20), "the clients did not stop")
end

local function healthchecks()
  local h = require("soc2ls.health")
  h.probe_timeout_ms = 1000
  -- Settings the server rejects are warnings.
  soc2ls.setup({ settings = { rules = { ["SOC2-NOPE-001"] = "off" } } })
  local report = health()
  check(report:find("WARNING[^\n]*unknown rule \"SOC2%-NOPE%-001\""), "a rejected setting is not reported", report)
  check(report:find("OK[^\n]*answers initialize"), "no OK for initialize", report)
  -- A command that is not installed: the open YAML buffers are not
  -- attached, and the user is told once.
  soc2ls.setup({ cmd = { "soc2ls-not-installed", "serve" } })
  vim.cmd("edit " .. vim.fn.fnameescape(work .. "/loose/one.yaml"))
  check(client_of(vim.api.nvim_get_current_buf()) == nil, "a client without a command")
  local said = select(2, messages():gsub("soc2ls%-not%-installed is not an executable on PATH", ""))
  check(said == 1, "the missing command was reported " .. said .. " times", messages())
  report = health()
  check(report:find("ERROR[^\n]*soc2ls%-not%-installed is not an executable on PATH"),
    "a missing command is not an error", report)
  -- A command that is not a language server: it echoes what it is sent, and
  -- the probe gives up after its bounded wait. (No filetype matches: the
  -- open buffers must not get a client that runs cat.)
  local none = { "soc2ls-test-none" }
  soc2ls.setup({ cmd = { "cat" }, filetypes = none })
  report = health()
  check(report:find("ERROR[^\n]*the server did not start: initialize got no reply"), "cat passes for a server", report)
  -- One that exits at once.
  soc2ls.setup({ cmd = { "true" }, filetypes = none })
  report = health()
  check(report:find("ERROR[^\n]*initialize got no reply: it exited with code 0"), "true passes for a server", report)
end

local ok, err = xpcall(function()
  options()
  roots()
  clients()
  healthchecks()
end, function(e)
  if type(e) == "table" and e[1] == FAILED then
    return e[2]
  end
  return "Lua error: " .. debug.traceback(tostring(e), 2)
end)
local msgs = messages()
if ok and msgs:find("deprecated", 1, true) then
  ok, err = false, "something used a deprecated API"
end
io.stdout:write(ok and "\nPASS\n" or ("\nFAIL: " .. err .. "\n--- :messages\n" .. msgs .. "\n"))
io.stdout:flush()
vim.cmd("qall!")
