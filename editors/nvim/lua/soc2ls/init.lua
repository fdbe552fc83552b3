-- soc2ls for Neovim: starts `soc2ls serve` for YAML and JSON buffers and
-- attaches them to it, one client per project root. Diagnostics, quick fixes
-- (vim.lsp.buf.code_action) and hovers (vim.lsp.buf.hover) are Neovim's own;
-- this module only decides when and how the server runs.
--
-- Neovim 0.7 has no vim.lsp.start: there the module keeps one client per
-- root itself (vim.lsp.start_client + vim.lsp.buf_attach_client). From 0.8
-- on, vim.lsp.start reuses a client with the same name and root.
local M = {}

--- The defaults of every option; :help soc2ls-options describes them.
M.defaults = {
  cmd = { "soc2ls", "serve" },
  cmd_env = nil,
  filetypes = { "yaml", "json", "yaml.cloudformation", "json.cloudformation" },
  root_markers = { ".git", ".soc2ls.yaml" },
  settings = {},
  diagnostics_delay = nil,
  on_attach = nil,
  capabilities = nil,
}

-- The option names; M.defaults holds nil for some of them.
local known = {
  cmd = true,
  cmd_env = true,
  filetypes = true,
  root_markers = true,
  settings = true,
  diagnostics_delay = true,
  on_attach = true,
  capabilities = true,
}

-- The options of the last setup(), or nil before it.
local options = nil
-- Client ids by root directory (Neovim 0.7 only).
local clients_by_root = {}
-- The commands found missing, each reported once.
local warned = {}

local function fail(msg)
  error("soc2ls.setup: " .. msg, 3)
end

local function is_list_of_strings(v)
  if type(v) ~= "table" then
    return false
  end
  local n = 0
  for k, s in pairs(v) do
    if type(k) ~= "number" or type(s) ~= "string" then
      return false
    end
    n = n + 1
  end
  return n == #v
end

-- validate checks the user's options one by one, so that a mistake is named
-- instead of surfacing later as an obscure failure to start the server.
local function validate(opts)
  if opts == nil then
    return {}
  end
  if type(opts) ~= "table" then
    fail("options must be a table, got " .. type(opts))
  end
  for k in pairs(opts) do
    if not known[k] then
      fail(string.format("unknown option %q (see :help soc2ls-options)", tostring(k)))
    end
  end
  if opts.cmd ~= nil and (not is_list_of_strings(opts.cmd) or #opts.cmd == 0) then
    fail("cmd must be a non-empty list of strings, such as { 'soc2ls', 'serve' }")
  end
  for _, k in ipairs({ "filetypes", "root_markers" }) do
    if opts[k] ~= nil and not is_list_of_strings(opts[k]) then
      fail(k .. " must be a list of strings")
    end
  end
  if opts.settings ~= nil and type(opts.settings) ~= "table" then
    fail("settings must be a table (the soc2ls settings: rules, logLevel, diagnosticsDelayMs)")
  end
  if opts.settings ~= nil and opts.settings.soc2ls ~= nil then
    fail("settings are the soc2ls section itself: write settings = { rules = ... }, not settings = { soc2ls = ... }")
  end
  local d = opts.diagnostics_delay
  if d ~= nil and (type(d) ~= "number" or d < 0 or d > 60000) then
    fail("diagnostics_delay must be a number of milliseconds from 0 to 60000, got " .. vim.inspect(d))
  end
  for _, k in ipairs({ "on_attach" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "function" then
      fail(k .. " must be a function")
    end
  end
  for _, k in ipairs({ "cmd_env", "capabilities" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "table" then
      fail(k .. " must be a table")
    end
  end
  return opts
end

--- The effective options: the last setup()'s, or the defaults.
function M.options()
  return options or vim.deepcopy(M.defaults)
end

--- Whether setup() has been called.
function M.is_setup()
  return options ~= nil
end

-- objects marks every empty table in v as a JSON object: vim.json encodes
-- an empty Lua table as [], which the server rejects where it wants an
-- object (the settings, `rules`). No soc2ls setting is a list.
local function objects(v)
  if type(v) ~= "table" then
    return v
  end
  if next(v) == nil then
    return vim.empty_dict()
  end
  local t = {}
  for k, x in pairs(v) do
    t[k] = objects(x)
  end
  return t
end

--- The soc2ls settings section for options opts: the settings table with
--- diagnostics_delay, when given, as diagnosticsDelayMs.
function M.section(opts)
  local s = vim.deepcopy(opts.settings or {})
  if opts.diagnostics_delay ~= nil then
    s.diagnosticsDelayMs = opts.diagnostics_delay
  end
  return objects(s)
end

local function is_dir(path)
  local st = vim.loop.fs_stat(path)
  return st ~= nil and st.type == "directory"
end

local function exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

local function parent(dir)
  local p = vim.fn.fnamemodify(dir, ":h")
  if p == dir then
    return nil
  end
  return p
end

--- The root directory for a file: the nearest directory, upwards from the
--- file's, that holds one of markers; else the file's own directory.
function M.root_dir(path, markers)
  markers = markers or M.defaults.root_markers
  local start = vim.fn.fnamemodify(path, ":p")
  if not is_dir(start) then
    start = vim.fn.fnamemodify(start, ":h")
  end
  start = start:gsub("(.)/$", "%1")
  local dir = start
  while dir do
    for _, m in ipairs(markers) do
      if exists(dir .. "/" .. m) then
        return dir
      end
    end
    dir = parent(dir)
  end
  return start
end

-- language_id tells the server JSON from YAML when the file name does not
-- (a compound filetype such as json.cloudformation, a name without .json).
local function language_id(_, filetype)
  if filetype:match("json") then
    return "json"
  end
  return "yaml"
end

--- The client configuration shared by every way of starting the server:
--- setup() on 0.7 and 0.8+, and lsp/soc2ls.lua for vim.lsp.config (0.11+).
--- root_dir is left out when nil (vim.lsp.config finds it from root_markers).
function M.client_config(opts, root)
  opts = opts or M.options()
  local section = M.section(opts)
  return {
    name = "soc2ls",
    cmd = vim.deepcopy(opts.cmd),
    cmd_env = opts.cmd_env,
    root_dir = root,
    filetypes = vim.deepcopy(opts.filetypes),
    root_markers = vim.deepcopy(opts.root_markers),
    -- Neovim answers workspace/configuration from settings and, from 0.8
    -- on, pushes them with workspace/didChangeConfiguration after
    -- initialize; 0.7 does not, so on_init does it there.
    settings = { soc2ls = section },
    init_options = section,
    capabilities = opts.capabilities,
    get_language_id = language_id,
    -- initializationOptions follow settings.soc2ls even when a user changed
    -- only the settings (vim.lsp.config('soc2ls', { settings = ... })).
    before_init = function(params, config)
      if config.settings and config.settings.soc2ls then
        params.initializationOptions = objects(config.settings.soc2ls)
      end
    end,
    on_init = function(client)
      if vim.fn.has("nvim-0.8") == 0 then
        local pushed = (client.config.settings or {}).soc2ls or {}
        client.notify("workspace/didChangeConfiguration", { settings = { soc2ls = objects(pushed) } })
      end
    end,
    on_attach = opts.on_attach,
  }
end

local function matches_filetype(ft, filetypes)
  for _, f in ipairs(filetypes) do
    if f == ft then
      return true
    end
  end
  return false
end

--- Attaches buffer bufnr (0 for the current one) to the soc2ls client of its
--- root, starting the client when there is none. Returns the client id, or
--- nil for buffers that are not files (help, terminals, unnamed buffers) and
--- when the command is not installed (said once, with vim.notify).
function M.attach(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local opts = M.options()
  if vim.fn.executable(opts.cmd[1]) ~= 1 then
    -- Said once, not on every YAML file the session opens.
    if not warned[opts.cmd[1]] then
      warned[opts.cmd[1]] = true
      vim.notify("soc2ls: cannot start the server: " .. opts.cmd[1] .. " is not an executable on PATH"
        .. " (see :checkhealth soc2ls)", vim.log.levels.WARN)
    end
    return nil
  end
  local root = M.root_dir(name, opts.root_markers)
  local config = M.client_config(opts, root)
  config.filetypes, config.root_markers = nil, nil
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(config)
    if not id then
      return nil
    end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Configures soc2ls and attaches it to the buffers of opts.filetypes, those
--- already open and those to come. Calling it again replaces the options;
--- a running client keeps its own until it is restarted (:LspRestart, or
--- vim.lsp.stop_client and reopening the file).
function M.setup(opts)
  opts = validate(opts)
  options = vim.tbl_extend("force", vim.deepcopy(M.defaults), opts)
  local group = vim.api.nvim_create_augroup("soc2ls", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options.filetypes,
    desc = "attach soc2ls",
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and matches_filetype(vim.bo[buf].filetype, options.filetypes) then
      M.attach(buf)
    end
  end
end

return M
