package template

import "testing"

func TestAssumeProduction(t *testing.T) {
	src := `Parameters:
  Environment:
    Type: String
    AllowedValues: [production, staging]
  Other:
    Type: String
Conditions:
  IsProduction: !Equals [!Ref Environment, production]
  NotProduction: !Not [!Condition IsProduction]
  ProdInPrimary: !And [!Condition IsProduction, !Equals [!Ref 'AWS::Region', !Ref Other]]
  ProdOrOther: !Or [!Condition IsProduction, !Equals [!Ref Other, x]]
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Good: !If [IsProduction, true, false]
      Bad: !If [IsProduction, false, true]
      Inverted: !If [NotProduction, false, true]
      Unknown: !If [ProdInPrimary, true, false]
      Env: !Ref Environment
`
	tp := Parse("t.yaml", []byte(src))
	prod := map[string]string{"Environment": "production"}
	for _, c := range []struct {
		cond       string
		val, known bool
	}{
		{"IsProduction", true, true},
		{"NotProduction", false, true},
		{"ProdInPrimary", false, false},
		{"ProdOrOther", true, true},
	} {
		val, known := tp.EvalCondition(c.cond, prod)
		if known != c.known || (known && val != c.val) {
			t.Errorf("%s in production = %v (known %v), want %v (known %v)", c.cond, val, known, c.val, c.known)
		}
	}
	db := tp.Resource("Db")
	isFalse := func(a Alt) bool { b, ok := a.Bool(); return ok && !b }
	for prop, want := range map[string]Verdict{"Good": Pass, "Bad": Definite, "Inverted": Pass, "Unknown": Possible} {
		v := tp.Assume(tp.Eval(db.Property(prop)), prod)
		if got, _ := v.Judge(isFalse); got != want {
			t.Errorf("%s in production: verdict %v, want %v", prop, got, want)
		}
	}
	env := tp.Assume(tp.Eval(db.Property("Env")), prod)
	if len(env) != 1 || env[0].Text() != "production" {
		t.Errorf("Env in production = %+v", env)
	}
}
