package gracefulshutdown

import "gatewaylab/goservices/internal/svc"

// BuggyHooks stop the process at once on SIGTERM, as one with no signal
// handling or an os.Exit would: readiness never turns, in-flight requests
// are cut mid-answer and new connections are refused while the gateway
// still routes here.
func BuggyHooks(svc.Env, *svc.Tracker) svc.Hooks {
	return svc.Hooks{Stop: func(s svc.Stopping) error {
		s.Log.Info("SIGTERM: closing every connection now")
		err := s.Server.Close() // BUG: no drain: the listener and all connections close mid-request
		s.Log.Info("closed, exiting")
		return err
	}}
}
