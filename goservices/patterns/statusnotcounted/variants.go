// Package statusnotcounted is the "status-not-counted" scenario: what a
// replica answers when its dependency fails decides whether nginx sees a
// failure at all. 500 and 502 are counted only if proxy_next_upstream lists
// them; an error inside a 200 is never counted; 503 with Retry-After is the
// honest answer nginx can be told to count (http_503).
package statusnotcounted

import (
	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "status-not-counted"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"answer-500":       Answer500,
	"answer-502":       Answer502,
	"answer-200-error": Answer200Error,
	"answer-503":       Answer503,
}

// Pattern is this scenario as refsvc registers it: GET and POST /api/item, no params.
var Pattern = svc.Pattern{Name: Name, Variants: Variants, Methods: []string{"GET", "POST"}}
