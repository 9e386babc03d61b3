package svc

import (
	"strings"
	"testing"
	"time"
)

func TestParams(t *testing.T) {
	env := Env{Params: map[string]string{"budget": "150ms", "n": "3", "bad": "soon", "neg": "-1s"}}
	if d, err := env.Duration("budget", time.Second); err != nil || d != 150*time.Millisecond {
		t.Errorf("Duration(budget) = %v, %v", d, err)
	}
	if d, err := env.Duration("unset", time.Second); err != nil || d != time.Second {
		t.Errorf("Duration(unset) = %v, %v", d, err)
	}
	if n, err := env.Int("n", 1); err != nil || n != 3 {
		t.Errorf("Int(n) = %v, %v", n, err)
	}
	for _, key := range []string{"bad", "neg"} {
		if _, err := env.Duration(key, time.Second); err == nil || !strings.Contains(err.Error(), "-param "+key) {
			t.Errorf("Duration(%s) error = %v, want it to name the param", key, err)
		}
	}
	if _, err := env.Int("bad", 1); err == nil {
		t.Error("Int(bad) = nil error")
	}
}

func TestCheckParams(t *testing.T) {
	p := Pattern{Name: "x", Params: map[string]any{"budget": time.Second, "n": 2}}
	if err := p.CheckParams(map[string]string{"budget": "0s", "n": "5"}); err != nil {
		t.Errorf("valid params: %v", err)
	}
	err := p.CheckParams(map[string]string{"budget": "later", "other": "1"})
	for _, want := range []string{`-param budget="later"`, "-param other: unknown for pattern \"x\" (known: budget, n)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want it to mention %q", err, want)
		}
	}
	err = Pattern{Name: "y"}.CheckParams(map[string]string{"budget": "1s"})
	if err == nil || !strings.Contains(err.Error(), "(known: none)") {
		t.Errorf("no-param pattern error = %v", err)
	}
}
