package statefile

import (
	"os"
	"testing"
)

// A lease holder is taken for dead, so that its lease is taken over before
// it expires, only when it ran on this host, in this PID namespace, and its
// process is gone: a PID means nothing on another host or in another
// namespace (another container), where the process may well be running.
func TestDeadHere(t *testing.T) {
	host, _ := os.Hostname()
	ns := pidNamespace()
	if ns == "" {
		t.Skip("no PID namespace on this platform")
	}
	dead := deadPID(t)
	tests := []struct {
		name string
		h    Holder
		want bool
	}{
		{"gone, this host and namespace", Holder{Host: host, PID: dead, PIDNamespace: ns}, true},
		{"alive", Holder{Host: host, PID: os.Getpid(), PIDNamespace: ns}, false},
		{"another host", Holder{Host: host + "-other", PID: dead, PIDNamespace: ns}, false},
		{"another namespace", Holder{Host: host, PID: dead, PIDNamespace: "pid:[1]"}, false},
		{"namespace unknown (an older lease)", Holder{Host: host, PID: dead}, false},
		{"holder unknown", Holder{PID: dead, PIDNamespace: ns}, false},
		{"no pid", Holder{Host: host, PIDNamespace: ns}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deadHere(tt.h); got != tt.want {
				t.Errorf("deadHere(%+v) = %v, want %v", tt.h, got, tt.want)
			}
		})
	}
}
