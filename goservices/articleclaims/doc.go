// Package articleclaims holds only tests: each one checks, on loopback, one
// claim of the article "单体Go项目API网关前置失败的典型现象与根因定位" that no
// scenario or pattern test already shows. claims/article.yaml cites them by
// name as evidence; every test asserts what Go really does, so it fails if
// the article's version were the true one.
package articleclaims
