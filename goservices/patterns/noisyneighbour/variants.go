// Package noisyneighbour is the "noisy-neighbour" scenario (bulkheads): a
// heavy admin route, /api/report, shares the outbound connection pool with
// the main API, /api/item, so report load makes items wait for connections.
package noisyneighbour

import "gatewaylab/goservices/internal/svc"

// Name is the -pattern value for this scenario.
const Name = "noisy-neighbour"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item and GET
// /api/report; report_conns sizes the fixed variant's report bulkhead.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Paths:    []string{"/api/item", "/api/report"},
	Params:   map[string]any{"report_conns": 4},
}
