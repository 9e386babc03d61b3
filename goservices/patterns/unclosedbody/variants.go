// Package unclosedbody is the "unclosed-body" scenario: an outbound response
// body that is never closed pins its connection and exhausts the pool.
package unclosedbody

import "gatewaylab/goservices/internal/svc"

// Name is the -pattern value for this scenario.
const Name = "unclosed-body"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy":           Buggy,
	"fixed":           Fixed,
	"client-timeout":  ClientTimeout,
	"request-context": RequestContext,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, no params.
var Pattern = svc.Pattern{Name: Name, Variants: Variants}
