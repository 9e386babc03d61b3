package patterns

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, v := range []string{"buggy", "fixed", "client-timeout", "request-context"} {
		if _, err := Lookup("unclosed-body", v); err != nil {
			t.Errorf("Lookup(unclosed-body, %s): %v", v, err)
		}
	}
	_, err := Lookup("unclosed-body", "nope")
	if err == nil || !strings.Contains(err.Error(), "buggy, client-timeout, fixed, request-context") {
		t.Errorf("unknown variant error = %v", err)
	}
	_, err = Lookup("nope", "buggy")
	if err == nil || !strings.Contains(err.Error(), "unclosed-body") {
		t.Errorf("unknown pattern error = %v", err)
	}
}
