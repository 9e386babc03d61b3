// Package unreadrequestbody is the "unread-request-body" scenario. The claim
// under test: a handler that never reads nor closes r.Body leaks. It does
// not: net/http's server closes the request body itself once the handler
// returns (discarding up to 256 KB to keep the connection; past that it
// closes the connection instead). Both variants stay flat under load.
package unreadrequestbody

import "gatewaylab/goservices/internal/svc"

// Name is the -pattern value for this scenario.
const Name = "unread-request-body"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: POST /api/item (GET is
// 405), no params, no dependency call.
var Pattern = svc.Pattern{Name: Name, Variants: Variants, Methods: []string{"POST"}}
