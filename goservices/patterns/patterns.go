// Package patterns lists every scenario; add a new one as its own package
// with a Pattern value and one line here.
package patterns

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/circuitbreaker"
	"gatewaylab/goservices/patterns/ctxnotpropagated"
	"gatewaylab/goservices/patterns/dbpoolleak"
	"gatewaylab/goservices/patterns/defergoroutinepanic"
	"gatewaylab/goservices/patterns/gatewayheaders"
	"gatewaylab/goservices/patterns/gracefulshutdown"
	"gatewaylab/goservices/patterns/headerlimits"
	"gatewaylab/goservices/patterns/keepaliverace"
	"gatewaylab/goservices/patterns/livenesslies"
	"gatewaylab/goservices/patterns/memoryleak"
	"gatewaylab/goservices/patterns/noisyneighbour"
	"gatewaylab/goservices/patterns/orphansubscriber"
	"gatewaylab/goservices/patterns/statusnotcounted"
	"gatewaylab/goservices/patterns/timeoutmismatch"
	"gatewaylab/goservices/patterns/unbufferedchan"
	"gatewaylab/goservices/patterns/unclosedbody"
	"gatewaylab/goservices/patterns/unreadrequestbody"
)

var registry = map[string]svc.Pattern{
	unclosedbody.Name:        unclosedbody.Pattern,
	unbufferedchan.Name:      unbufferedchan.Pattern,
	orphansubscriber.Name:    orphansubscriber.Pattern,
	unreadrequestbody.Name:   unreadrequestbody.Pattern,
	statusnotcounted.Name:    statusnotcounted.Pattern,
	timeoutmismatch.Name:     timeoutmismatch.Pattern,
	defergoroutinepanic.Name: defergoroutinepanic.Pattern,
	noisyneighbour.Name:      noisyneighbour.Pattern,
	ctxnotpropagated.Name:    ctxnotpropagated.Pattern,
	dbpoolleak.Name:          dbpoolleak.Pattern,
	gatewayheaders.Name:      gatewayheaders.Pattern,
	memoryleak.Name:          memoryleak.Pattern,
	livenesslies.Name:        livenesslies.Pattern,
	gracefulshutdown.Name:    gracefulshutdown.Pattern,
	headerlimits.Name:        headerlimits.Pattern,
	keepaliverace.Name:       keepaliverace.Pattern,
	circuitbreaker.Name:      circuitbreaker.Pattern,
}

// Lookup returns the pattern and the constructor of its variant, or an error
// naming the known ones.
func Lookup(pattern, variant string) (svc.Pattern, svc.Constructor, error) {
	p, ok := registry[pattern]
	if !ok {
		return svc.Pattern{}, nil, fmt.Errorf("unknown pattern %q (known: %s)", pattern, strings.Join(keys(registry), ", "))
	}
	c, ok := p.Variants[variant]
	if !ok {
		return p, nil, fmt.Errorf("unknown variant %q for pattern %q (known: %s)", variant, pattern, strings.Join(keys(p.Variants), ", "))
	}
	return p, c, nil
}

// List returns every pattern with its variants, sorted: the registry the
// harness validates scenarios against (refsvc -list prints it as JSON).
func List() map[string][]string {
	out := make(map[string][]string, len(registry))
	for name, p := range registry {
		out[name] = keys(p.Variants)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
