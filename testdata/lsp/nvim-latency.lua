-- Latency probe: headless Neovim (0.7+) as the client of `soc2ls serve`.
--   go build -o /tmp/soc2ls ./cmd/soc2ls
--   go run ./testdata/lsp/synth 174000 > /tmp/t170.yaml
--   SOC2LS=/tmp/soc2ls TEMPLATE=/tmp/t170.yaml [DELAY=30] \
--     nvim --headless -u NONE -c 'luafile testdata/lsp/nvim-latency.lua'
-- Prints the time from starting the server to the first diagnostics, and the
-- median and worst time from an edit (a line added at the top, or removed
-- again, which moves every diagnostic) to its diagnostics, over 20 edits.
-- Neovim's own didChange debounce (150 ms by default in 0.7) is turned off.
local bin, path = os.getenv("SOC2LS"), os.getenv("TEMPLATE")
vim.cmd("edit " .. path)
local buf = vim.api.nvim_get_current_buf()
local published = {}
local t0 = vim.loop.hrtime()
local id = vim.lsp.start_client({
  name = "soc2ls",
  cmd = { bin, "serve" },
  root_dir = vim.fn.fnamemodify(path, ":h"),
  flags = { debounce_text_changes = 0 },
  init_options = { diagnosticsDelayMs = tonumber(os.getenv("DELAY") or "30") },
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
      table.insert(published, vim.loop.hrtime())
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
})
vim.lsp.buf_attach_client(buf, id)
if not vim.wait(20000, function() return #published >= 1 end, 1) then
  io.stdout:write("FAIL: no diagnostics\n")
  vim.cmd("qall!")
end
local open_ms = (published[1] - t0) / 1e6
local lat = {}
for i = 1, 20 do
  local n = #published
  local ts = vim.loop.hrtime()
  if i % 2 == 1 then
    vim.api.nvim_buf_set_lines(buf, 0, 0, false, { "# x" })
  else
    vim.api.nvim_buf_set_lines(buf, 0, 1, false, {})
  end
  vim.wait(20000, function() return #published > n end, 1)
  table.insert(lat, (published[#published] - ts) / 1e6)
end
table.sort(lat)
io.stdout:write(string.format("start->first diagnostics %.1f ms; edit->diagnostics median %.1f ms, worst %.1f ms\n",
  open_ms, (lat[10] + lat[11]) / 2, lat[20]))
vim.lsp.get_client_by_id(id).stop()
vim.wait(2000, function() return vim.lsp.get_client_by_id(id) == nil end, 20)
vim.cmd("qall!")
