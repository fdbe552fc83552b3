-- An editing session in headless Neovim (0.7 or later) with the soc2ls plugin
-- (editors/nvim) and `soc2ls` on PATH, run by TestNeovim (editors):
--   TEMPLATE=/proj/stacks/app.yaml ROOT=/proj [MODE=enable] \
--     nvim --headless --clean -u NONE --cmd 'set rtp^=editors/nvim' -c 'luafile testdata/lsp/nvim-session.lua'
-- It sets the plugin up (require('soc2ls').setup, or with MODE=enable on
-- 0.11+ vim.lsp.config and vim.lsp.enable through lsp/soc2ls.lua), opens
-- the template, waits for diagnostics, leaves a bracket open (the syntax
-- error and the last good findings are shown) and closes it, hovers a finding with
-- vim.lsp.buf.hover, applies the preferred quick fix of
-- SOC2-TAG-001 (requested with buf_request_sync) and of SOC2-CT-001 (through
-- vim.lsp.buf.code_action), renames with vim.lsp.buf.rename, runs
-- :checkhealth soc2ls and stops the client (the server exits with code 0);
-- nothing may have been reported as deprecated on the way. It prints "PASS",
-- or "FAIL: ..." with what the editor knows (diagnostics, :messages), then
-- quits.
-- Every wait is bounded; the test also kills Neovim if it outlives its own.
local path, root = os.getenv("TEMPLATE"), os.getenv("ROOT")
local WAIT = 20000

local function messages()
  local ok, out
  if vim.api.nvim_exec2 then
    ok, out = pcall(vim.api.nvim_exec2, "messages", { output = true })
    out = ok and out.output or out
  else
    ok, out = pcall(vim.api.nvim_exec, "messages", true)
  end
  return ok and out or ("(:messages failed: " .. tostring(out) .. ")")
end

local function finish(line)
  io.stdout:write("\n" .. line .. "\n")
  io.stdout:flush()
  vim.cmd("qall!")
end

-- Failure is an error carrying this marker, so that run() can tell a failed
-- check from a Lua error in the script itself (both end the session).
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

-- showMessage notifications from the server: the plugin must send settings
-- the server accepts, so any warning here is a failure.
local shown = {}
local show = vim.lsp.handlers["window/showMessage"]
vim.lsp.handlers["window/showMessage"] = function(err, result, ctx, config)
  shown[#shown + 1] = result
  return show(err, result, ctx, config)
end

local function session()
  if vim.lsp.log and vim.lsp.log.set_level then
    vim.lsp.log.set_level("debug")
  else
    vim.lsp.set_log_level("debug")
  end
  local rules = { ["SOC2-VPC-001"] = "off" }
  if os.getenv("MODE") == "enable" then
    -- Neovim 0.11+: lsp/soc2ls.lua through vim.lsp.config and vim.lsp.enable.
    check(vim.lsp.enable ~= nil, "MODE=enable needs Neovim 0.11 or later")
    vim.lsp.config("soc2ls", { settings = { soc2ls = { diagnosticsDelayMs = 10, rules = rules } } })
    vim.lsp.enable("soc2ls")
  else
    require("soc2ls").setup({ diagnostics_delay = 10, settings = { rules = rules } })
  end
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == "yaml", "filetype is " .. vim.bo[buf].filetype)

  local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
  local client
  check(vim.wait(WAIT, function()
    for _, c in ipairs(get_clients()) do
      if c.name == "soc2ls" and c.initialized ~= false and vim.lsp.buf_is_attached(buf, c.id) then
        client = c
        return true
      end
    end
    return false
  end, 20), "no soc2ls client attached to the buffer")
  check(client.config.root_dir == root, "root_dir is " .. tostring(client.config.root_dir) .. ", want " .. root)

  local function codes()
    local set = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      set[d.code or ""] = d
    end
    return set
  end
  -- lsp_diagnostic rebuilds the server's diagnostic from Neovim's (0.7
  -- keeps only the extra fields in user_data.lsp, 0.10 the whole of it).
  -- The columns equal UTF-16 ones here: the template is ASCII.
  local function lsp_diagnostic(d)
    return vim.tbl_extend("keep", {
      range = { start = { line = d.lnum, character = d.col }, ["end"] = { line = d.end_lnum, character = d.end_col } },
      message = d.message,
      severity = d.severity,
      code = d.code,
      source = d.source,
    }, (d.user_data and d.user_data.lsp) or {})
  end
  local function text()
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  end

  check(vim.wait(WAIT, function() return codes()["SOC2-TAG-001"] ~= nil and codes()["SOC2-CT-001"] ~= nil end, 20),
    "no SOC2-TAG-001 and SOC2-CT-001 diagnostics", vim.diagnostic.get(buf))
  local tag = codes()["SOC2-TAG-001"]
  check(tag.source == "soc2ls", "source is " .. tostring(tag.source))
  check(vim.api.nvim_buf_get_lines(buf, tag.lnum, tag.lnum + 1, false)[1]:sub(tag.col + 1, tag.end_col) == "production",
    "SOC2-TAG-001 does not span the literal", tag)
  check(codes()["SOC2-VPC-001"] == nil, "SOC2-VPC-001 is reported although the settings turn it off")

  -- A bracket left open: the syntax error is shown, and so are the findings
  -- of the last version that parsed; closing it again brings the template
  -- back without the syntax error.
  local output
  for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if l == "    Value: !GetAtt Trail.Arn" then
      output = i - 1
    end
  end
  check(output ~= nil, "no output line to break", text())
  vim.api.nvim_buf_set_lines(buf, output, output + 1, false, { "    Value: [!GetAtt Trail.Arn" })
  check(vim.wait(WAIT, function() return codes()["SOC2-PARSE-001"] ~= nil end, 20),
    "no SOC2-PARSE-001 for the open bracket", vim.diagnostic.get(buf))
  check(codes()["SOC2-TAG-001"] ~= nil and codes()["SOC2-CT-001"] ~= nil,
    "the findings of the last version that parsed vanished with the syntax error", vim.diagnostic.get(buf))
  vim.api.nvim_buf_set_lines(buf, output, output + 1, false, { "    Value: !GetAtt Trail.Arn" })
  check(vim.wait(WAIT, function() return codes()["SOC2-PARSE-001"] == nil end, 20),
    "SOC2-PARSE-001 stays after the bracket is removed", vim.diagnostic.get(buf))
  check(codes()["SOC2-TAG-001"] ~= nil and codes()["SOC2-CT-001"] ~= nil, "the findings are gone", vim.diagnostic.get(buf))
  tag = codes()["SOC2-TAG-001"]

  -- Hover through the built-in vim.lsp.buf.hover: a floating window with the
  -- finding's rule and criteria.
  vim.api.nvim_win_set_cursor(0, { tag.lnum + 1, tag.col })
  vim.lsp.buf.hover()
  local hover
  check(vim.wait(WAIT, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        hover = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), "\n")
        return true
      end
    end
    return false
  end, 20), "vim.lsp.buf.hover opened no window")
  check(hover:find("SOC2-TAG-001", 1, true) and hover:find("CC8.1", 1, true),
    "the hover lacks the rule or CC8.1", hover)
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      vim.api.nvim_win_close(w, true)
    end
  end

  -- The preferred quick fix of the tag, requested and applied as a client
  -- plugin would.
  local resp = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = lsp_diagnostic(tag).range,
    context = { diagnostics = { lsp_diagnostic(tag) } },
  }, WAIT)
  check(resp and resp[client.id] and resp[client.id].result, "no code actions", resp)
  local fix
  for _, a in ipairs(resp[client.id].result) do
    if a.isPreferred and a.diagnostics and a.diagnostics[1] and a.diagnostics[1].code == "SOC2-TAG-001" then
      fix = a
    end
  end
  check(fix ~= nil and fix.edit ~= nil, "no preferred fix with an edit for SOC2-TAG-001", resp[client.id].result)
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  check(text():find("Value: !Ref Environment", 1, true), "the fix did not write !Ref Environment", text())
  check(text():find("\nParameters:\n  Environment:\n", 1, true),
    "the fix did not add the Environment parameter", text())
  check(vim.wait(WAIT, function() return codes()["SOC2-TAG-001"] == nil and codes()["SOC2-CT-001"] ~= nil end, 20),
    "SOC2-TAG-001 is still reported after its fix", vim.diagnostic.get(buf))

  -- The trail's quick fix through the built-in vim.lsp.buf.code_action, the
  -- user choosing the preferred entry in its menu.
  local trail = codes()["SOC2-CT-001"]
  vim.api.nvim_win_set_cursor(0, { trail.lnum + 1, trail.col })
  local offered
  local select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    offered = items
    for i, item in ipairs(items) do
      local action = item.action or item[2]
      if action.isPreferred and action.diagnostics and action.diagnostics[1].code == "SOC2-CT-001" then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  vim.lsp.buf.code_action()
  check(vim.wait(WAIT, function() return text():find("IsMultiRegionTrail: true", 1, true) ~= nil end, 20),
    "vim.lsp.buf.code_action did not apply the trail's fix", offered, text())
  vim.ui.select = select
  check(vim.wait(WAIT, function() return codes()["SOC2-CT-001"] == nil end, 20),
    "SOC2-CT-001 is still reported after its fix", vim.diagnostic.get(buf))

  -- Rename the trail through the built-in vim.lsp.buf.rename.
  for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if l:find("^  Trail:") then
      vim.api.nvim_win_set_cursor(0, { i, 3 })
    end
  end
  vim.lsp.buf.rename("AuditTrail")
  check(vim.wait(WAIT, function() return text():find("!GetAtt AuditTrail.Arn", 1, true) ~= nil end, 20),
    "the rename did not reach the GetAtt", text())

  -- :checkhealth soc2ls reports OK for the binary, its version and the probe.
  vim.cmd("checkhealth soc2ls")
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  check(report:find("OK[^\n]*version: soc2ls", 1) and report:find("OK[^\n]*answers initialize", 1)
    and report:find("OK[^\n]*exit code 0", 1), "the health report lacks its OK lines", report)
  check(not report:find("ERROR") and not report:find("WARNING"), "the health report has errors or warnings", report)
  local by = os.getenv("MODE") == "enable" and "vim.lsp.config('soc2ls')" or "setup()"
  check(report:find("configured by " .. by, 1, true),
    "the health report does not say it is configured by " .. by, report)
  check(report:find('settings: {[^\n]*"SOC2%-VPC%-001":"off"'), "the health report does not show the settings", report)
  vim.cmd("tabclose")

  check(#shown == 0, "the server showed messages (are the settings wrong?)", shown)

  if vim.fn.has("nvim-0.11") == 1 then
    client:stop()
  else
    vim.lsp.stop_client(client.id)
  end
  check(vim.wait(WAIT, function() return vim.lsp.get_client_by_id(client.id) == nil end, 20), "the client did not stop")
  -- Neovim's shutdown and exit end the server with code 0: the server logs
  -- the code on its standard error, which Neovim copies into its LSP log.
  local log = ((vim.lsp.log and vim.lsp.log.get_filename) or vim.lsp.get_log_path)()
  local function exit_logged()
    local f = io.open(log, "r")
    if not f then
      return false
    end
    local content = f:read("*a")
    f:close()
    return content:find('exit\\t{"code": 0}', 1, true) ~= nil
  end
  check(vim.wait(WAIT, exit_logged, 20), "the server did not log exit code 0 after Neovim stopped it (" .. log .. ")")
  check(not messages():find("deprecated", 1, true), "something used a deprecated API", messages())
end

local ok, err = xpcall(session, function(e)
  if type(e) == "table" and e[1] == FAILED then
    return e[2]
  end
  return "Lua error: " .. debug.traceback(tostring(e), 2)
end)
if ok then
  finish("PASS")
else
  finish("FAIL: " .. err .. "\n--- :messages\n" .. messages())
end
