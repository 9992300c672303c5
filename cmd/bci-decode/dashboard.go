package main

import (
	"flag"

	"github.com/bci-decode/bci-decode/dashboard" // registers the --http output plug-in
)

// serveDashboard makes a command serve the dashboard unless told otherwise
// (--http= turns it off): the demo, which someone is watching.
func serveDashboard(fs *flag.FlagSet) {
	if f := fs.Lookup("http"); f != nil {
		_ = f.Value.Set(dashboard.DemoAddr)
		f.DefValue = dashboard.DemoAddr
	}
}
