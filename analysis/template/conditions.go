package template

// EvalCondition evaluates the named condition assuming the given parameter
// values. known is false when the result depends on something not assumed
// (another parameter, a pseudo parameter such as AWS::Region, an import).
func (t *Template) EvalCondition(name string, params map[string]string) (value, known bool) {
	return t.evalCondition(name, params, 0)
}

func (t *Template) evalCondition(name string, params map[string]string, depth int) (bool, bool) {
	c := t.Condition(name)
	if c == nil || depth > 32 {
		return false, false
	}
	return t.evalCondExpr(c.Value, params, depth+1)
}

func (t *Template) evalCondExpr(n *Node, params map[string]string, depth int) (bool, bool) {
	if n == nil || n.Kind != Intrinsic || depth > 64 {
		if b, ok := n.Bool(); ok {
			return b, true
		}
		return false, false
	}
	args := n.Arg.List()
	switch n.Fn {
	case "Condition":
		return t.evalCondition(n.Arg.Text(), params, depth+1)
	case "Fn::Not":
		if len(args) != 1 {
			return false, false
		}
		v, ok := t.evalCondExpr(args[0], params, depth+1)
		return !v, ok
	case "Fn::And", "Fn::Or":
		isAnd := n.Fn == "Fn::And"
		allKnown := true
		for _, a := range args {
			v, ok := t.evalCondExpr(a, params, depth+1)
			if !ok {
				allKnown = false
				continue
			}
			if isAnd && !v {
				return false, true
			}
			if !isAnd && v {
				return true, true
			}
		}
		return isAnd, allKnown
	case "Fn::Equals":
		if len(args) != 2 {
			return false, false
		}
		a, aok := t.assumedText(args[0], params)
		b, bok := t.assumedText(args[1], params)
		return a == b, aok && bok
	}
	return false, false
}

// assumedText is the text of a literal, or of a Ref to an assumed parameter.
func (t *Template) assumedText(n *Node, params map[string]string) (string, bool) {
	if n.IsScalar() {
		return n.Value, true
	}
	if n.IsFn("Ref") {
		v, ok := params[n.Arg.Text()]
		return v, ok
	}
	return "", false
}

// Assume keeps the alternatives of v that are consistent with the given
// parameter values: those whose Fn::If conditions can hold, and those not
// drawn from a parameter set to something else. Use it to judge a value "in
// production": t.Assume(v, map[string]string{"Environment": "production"}).
func (t *Template) Assume(v Value, params map[string]string) Value {
	out := make(Value, 0, len(v))
next:
	for _, a := range v {
		if want, ok := params[a.Param]; ok && a.Param != "" {
			if a.Kind == Literal && a.Node.Text() != want {
				continue
			}
			if a.Kind == Unknown {
				// The parameter's value is assumed: it is that literal.
				a = Alt{Kind: Literal, Node: &Node{Kind: Scalar, Value: want}, Param: a.Param, Conds: a.Conds}
			}
		}
		for _, c := range a.Conds {
			if val, known := t.EvalCondition(c.Name, params); known && val != c.Value {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}
