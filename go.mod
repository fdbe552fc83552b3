module github.com/soc2ls/soc2ls

go 1.26

require gopkg.in/yaml.v3 v3.0.1
