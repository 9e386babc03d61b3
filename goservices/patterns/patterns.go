// Package patterns lists every scenario; add a new one as its own package
// with a Variants map and one line here.
package patterns

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/unclosedbody"
)

var registry = map[string]map[string]svc.Constructor{
	unclosedbody.Name: unclosedbody.Variants,
}

// Lookup returns the constructor for pattern/variant, or an error naming the known ones.
func Lookup(pattern, variant string) (svc.Constructor, error) {
	variants, ok := registry[pattern]
	if !ok {
		return nil, fmt.Errorf("unknown pattern %q (known: %s)", pattern, strings.Join(keys(registry), ", "))
	}
	c, ok := variants[variant]
	if !ok {
		return nil, fmt.Errorf("unknown variant %q for pattern %q (known: %s)", variant, pattern, strings.Join(keys(variants), ", "))
	}
	return c, nil
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
