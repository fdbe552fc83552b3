-- A Neovim (0.7+) session against `soc2ls serve`, run headless by
-- TestServeNeovim (cmd/soc2ls):
--   SOC2LS=/path/to/soc2ls TEMPLATE=/path/to/t.yaml nvim --headless -u NONE -c 'luafile nvim-session.lua'
-- It opens the template, waits for diagnostics, applies the preferred quick
-- fix of SOC2-CT-001, waits for the diagnostic to go, hovers, renames, shuts
-- the server down and prints "PASS" or "FAIL: ..." before quitting.
local bin, path = os.getenv("SOC2LS"), os.getenv("TEMPLATE")
local out = {}
local function finish(msg)
  io.stdout:write(msg .. "\n")
  vim.cmd("qall!")
end
local function check(ok, msg)
  if not ok then
    finish("FAIL: " .. msg)
    error(msg)
  end
end

vim.cmd("edit " .. path)
local buf = vim.api.nvim_get_current_buf()
local exit_code
local id = vim.lsp.start_client({
  name = "soc2ls",
  cmd = { bin, "serve", "--stdio" },
  root_dir = vim.fn.fnamemodify(path, ":h"),
  init_options = { diagnosticsDelayMs = 10 },
  on_exit = function(code) exit_code = code end,
})
check(id ~= nil, "client did not start")
vim.lsp.buf_attach_client(buf, id)
local client = vim.lsp.get_client_by_id(id)

local function codes()
  local set = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    set[d.code or ""] = d
  end
  return set
end
check(vim.wait(20000, function() return codes()["SOC2-CT-001"] ~= nil end, 20), "no SOC2-CT-001 diagnostic")
local diag = codes()["SOC2-CT-001"]
check(diag.source == "soc2ls", "source is " .. tostring(diag.source))

-- The preferred quick fix, applied the way :lua vim.lsp.buf.code_action() does.
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = diag.lnum, character = diag.col }, ["end"] = { line = diag.end_lnum, character = diag.end_col } },
  context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, diag.lnum) },
}
local resp = client.request_sync("textDocument/codeAction", params, 20000, buf)
check(resp and resp.result, "no code actions")
local fix
for _, a in ipairs(resp.result) do
  if a.isPreferred and a.diagnostics and a.diagnostics[1].code == "SOC2-CT-001" then fix = a end
end
check(fix ~= nil, "no preferred fix for SOC2-CT-001")
vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
check(text:find("IsMultiRegionTrail: true", 1, true) ~= nil, "fix not applied")
check(vim.wait(20000, function() return codes()["SOC2-CT-001"] == nil end, 20), "SOC2-CT-001 still reported after its fix")

-- Hover on the resource type.
local row
for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  if l:find("AWS::CloudTrail::Trail", 1, true) then row = i - 1 end
end
local hover = client.request_sync("textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = row, character = 14 } }, 20000, buf)
check(hover and hover.result and hover.result.contents.value:find("SOC2-CT-001", 1, true), "hover on the type does not list SOC2-CT-001")

-- Rename the trail and apply.
for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  if l:find("^  Trail:") then row = i - 1 end
end
local ren = client.request_sync("textDocument/rename", {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = row, character = 3 }, newName = "AuditTrail" }, 20000, buf)
check(ren and ren.result, "rename failed: " .. vim.inspect(ren and ren.err))
vim.lsp.util.apply_workspace_edit(ren.result, client.offset_encoding)
text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
check(text:find("!GetAtt AuditTrail.Arn", 1, true) ~= nil, "rename did not reach the GetAtt")

client.stop()
check(vim.wait(20000, function() return exit_code ~= nil end, 20), "server did not exit")
check(exit_code == 0, "server exit code " .. tostring(exit_code))
finish("PASS")
