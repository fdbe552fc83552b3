-- luacheck editors/nvim testdata/lsp (Debian: apt-get install lua-check)
std = "luajit"
globals = { "vim" } -- the scripts set vim.bo, vim.ui.select
max_line_length = 120
