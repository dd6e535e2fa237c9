package totem

import (
	"fmt"
	"testing"
)

func dumpNet(t *testing.T, net *miniNet) {
	for _, id := range net.ids {
		e := net.nodes[id]
		st := e.Status()
		t.Logf("node %d: %v ring %v members %v proc %v fail %v cons %v commit %+v timers %+v held %v self %v stats %+v", id, st.State, st.Ring, st.Members,
			e.memb.proc, e.memb.fail, e.memb.consensus, e.commit, e.timers, e.tok.held != nil, e.tok.self != nil, st.Stats)
	}
	fmt.Println()
}

type tlogWriter struct {
	t   *testing.T
	net *miniNet
	on  *bool
}

func (w tlogWriter) Write(p []byte) (int, error) {
	if *w.on {
		w.t.Logf("%8.1fms %s", float64(w.net.now.Microseconds())/1000, p)
	}
	return len(p), nil
}
