-- The soc2ls server for Neovim 0.11's vim.lsp.config / vim.lsp.enable:
--   vim.lsp.enable('soc2ls')
-- finds this file on the runtimepath. Override fields with
--   vim.lsp.config('soc2ls', { settings = { soc2ls = { rules = { ['SOC2-TAG-001'] = 'off' } } } })
-- Use this or require('soc2ls').setup(), not both: each starts a client.
local soc2ls = require("soc2ls")
local config = soc2ls.client_config(soc2ls.options())
config.name = nil -- vim.lsp.config names the client after this file
-- The same root as setup(): the nearest directory with a root marker, else
-- the file's own directory. Buffers that are not files get no client.
config.root_dir = function(bufnr, on_dir)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name ~= "" and vim.bo[bufnr].buftype == "" then
    on_dir(soc2ls.root_dir(name, config.root_markers))
  end
end
return config
