package edit

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis/template"
)

func TestDeleteAndRemove(t *testing.T) {
	props := func(tp *template.Template) *template.Node { return tp.Resource("T").Properties }
	cases := []struct {
		name, file, src, want string
		build                 func(b *Builder, tp *template.Template)
	}{{
		name:  "block pair with a nested block, comments on other lines kept",
		file:  "t.yaml",
		src:   "Resources:\n  T:\n    Type: X\n    Properties:\n      # access\n      AccessControl:\n        Grant: all\n      Name: n # keep\n",
		want:  "Resources:\n  T:\n    Type: X\n    Properties:\n      # access\n      Name: n # keep\n",
		build: func(b *Builder, tp *template.Template) { b.Delete(props(tp), "AccessControl") },
	}, {
		name:  "last block pair",
		file:  "t.yaml",
		src:   "Resources:\n  T:\n    Type: X\n    Properties:\n      A: 1\n      B: 2\nOutputs: {}\n",
		want:  "Resources:\n  T:\n    Type: X\n    Properties:\n      A: 1\nOutputs: {}\n",
		build: func(b *Builder, tp *template.Template) { b.Delete(props(tp), "B") },
	}, {
		name:  "only pair becomes {}",
		file:  "t.yaml",
		src:   "Resources:\n  T:\n    Type: X\n    Properties:\n      A: 1\n",
		want:  "Resources:\n  T:\n    Type: X\n    Properties:\n      {}\n",
		build: func(b *Builder, tp *template.Template) { b.Delete(props(tp), "A") },
	}, {
		name:  "first pair of a sequence item keeps the dash",
		file:  "t.yaml",
		src:   "Resources:\n  T:\n    Type: X\n    Properties:\n      L:\n        - Key: k\n          Value: v\n",
		want:  "Resources:\n  T:\n    Type: X\n    Properties:\n      L:\n        - Value: v\n",
		build: func(b *Builder, tp *template.Template) { b.Delete(props(tp).Get("L").Items[0], "Key") },
	}, {
		name:  "flow pair",
		file:  "t.yaml",
		src:   "Resources:\n  T: {Type: X, Properties: {A: 1, B: 2, C: 3}}\n",
		want:  "Resources:\n  T: {Type: X, Properties: {A: 1, C: 3}}\n",
		build: func(b *Builder, tp *template.Template) { b.Delete(props(tp), "B") },
	}, {
		name: "two neighbouring flow pairs, first and second",
		file: "t.yaml",
		src:  "Resources:\n  T: {Type: X, Properties: {A: 1, B: 2, C: 3}}\n",
		want: "Resources:\n  T: {Type: X, Properties: {C: 3}}\n",
		build: func(b *Builder, tp *template.Template) {
			b.Delete(props(tp), "B")
			b.Delete(props(tp), "A")
		},
	}, {
		name: "block sequence item",
		file: "t.yaml",
		src:  "Resources:\n  T:\n    Type: X\n    Properties:\n      L:\n        - a\n        - Sid: b\n          Effect: Deny\n        - c\n",
		want: "Resources:\n  T:\n    Type: X\n    Properties:\n      L:\n        - a\n        - c\n",
		build: func(b *Builder, tp *template.Template) {
			l := props(tp).Get("L")
			b.Remove(l, l.Items[1])
		},
	}, {
		name: "only sequence item",
		file: "t.yaml",
		src:  "Resources:\n  T:\n    Type: X\n    DependsOn:\n      - R\n",
		want: "Resources:\n  T:\n    Type: X\n    DependsOn:\n      []\n",
		build: func(b *Builder, tp *template.Template) {
			l := tp.Resource("T").Value.Get("DependsOn")
			b.Remove(l, l.Items[0])
		},
	}, {
		name: "JSON middle and last pairs",
		file: "t.json",
		src:  "{\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"X\",\n      \"Properties\": {\n        \"A\": 1,\n        \"B\": [2],\n        \"C\": 3\n      }\n    }\n  }\n}\n",
		want: "{\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"X\",\n      \"Properties\": {\n        \"A\": 1\n      }\n    }\n  }\n}\n",
		build: func(b *Builder, tp *template.Template) {
			b.Delete(props(tp), "B")
			b.Delete(props(tp), "C")
		},
	}, {
		name: "JSON list item",
		file: "t.json",
		src:  "{\"Resources\": {\"T\": {\"Type\": \"X\", \"DependsOn\": [\"A\", \"B\"]}}}",
		want: "{\"Resources\": {\"T\": {\"Type\": \"X\", \"DependsOn\": [\"A\"]}}}",
		build: func(b *Builder, tp *template.Template) {
			l := tp.Resource("T").Value.Get("DependsOn")
			b.Remove(l, l.Items[1])
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := apply(t, c.file, c.src, c.build); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
