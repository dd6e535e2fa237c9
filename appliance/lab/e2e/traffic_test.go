package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance/lab"
)

// TestFailoverKeepsTraffic: while the gateway holder is powered off, a
// continuous ICMP echo from the client to wan through the VIPs recovers
// once a survivor holds the gateway, and a TCP connection from the client
// to wan opened before the fault still carries data after it. The gateway
// only forwards (no NAT, no connection tracking on the nodes) and the VIPs
// move with their addresses, so nothing on the path knew about the
// connection: once the new node forwards, TCP's retransmissions get
// through. Loss during the gap is expected; the gap is logged, never
// asserted.
func TestFailoverKeepsTraffic(t *testing.T) {
	st, _ := upGateway(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	from, _ := lab.Holder(st)
	if from == "" {
		t.Fatal("no node holds the gateway after up")
	}

	echo, err := newEchoStream(st.Hosts["client"], lab.WANAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go echo.run(ctx, 10*time.Millisecond)

	tcp, err := newTCPEcho(st.Hosts["wan"], lab.WANAddr, st.Hosts["client"])
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	go tcp.run(ctx, 20*time.Millisecond)

	t0 := time.Now()
	await(t, 10*time.Second, "echo and TCP flowing before the fault", func() string {
		if !echo.repliedAfter(t0) {
			return "no echo reply yet"
		}
		if ok, err := tcp.echoedAfter(t0); err != nil {
			t.Fatalf("TCP connection before the fault: %v", err)
		} else if !ok {
			return "no TCP echo yet"
		}
		return ""
	})

	fault := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultPowerOff, ""); err != nil {
		t.Fatal(err)
	}
	to, _ := waitHolder(t, st, from)
	took := time.Now()

	await(t, 20*time.Second, "an ICMP echo sent after "+to+" took the gateway is answered", func() string {
		if echo.repliedAfter(took) {
			return ""
		}
		return "no reply"
	})
	// TCP retransmits with exponential backoff, so the first segment to
	// get through may come a few seconds after the path is back.
	await(t, 30*time.Second, "the TCP connection opened before the fault carries data written after "+to+" took the gateway", func() string {
		ok, err := tcp.echoedAfter(took)
		if err != nil {
			t.Fatalf("TCP connection across the failover: %v", err)
		}
		if !ok {
			return "no echo of data written after the failover"
		}
		return ""
	})
	cancel()
	gap, lost, sent, answered := echo.gap(fault)
	written, echoed, stall := tcp.stats()
	t.Logf("gateway %s -> %s; ICMP every 10 ms since the fault: %d sent, %d answered, longest gap %v (%d lost); TCP every 20 ms: %d written, %d echoed, longest stall %v",
		from, to, sent, answered, gap, lost, written, echoed, stall)
}
