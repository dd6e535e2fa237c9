package enginetest

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/ovsha/ovsha/cluster/transport"
)

// newTransport opens the node's UDP transport on every link, encrypted and
// authenticated with the test authkey.
func newTransport(cfg nodeConfig, log *slog.Logger) (transport.Transport, error) {
	peers := make([]transport.Peer, 0, len(cfg.Peers))
	for _, p := range cfg.Peers {
		var tp transport.Peer
		tp.ID = transport.NodeID(p.ID)
		for l, a := range p.Addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, fmt.Errorf("node %d link %d address %q: %w", p.ID, l, a, err)
			}
			tp.Addrs[l] = netip.AddrPortFrom(ip, uint16(cfg.Port))
		}
		peers = append(peers, tp)
	}
	tr, err := transport.NewUDP(transport.UDPConfig{
		ClusterName: cfg.Cluster,
		Key:         cfg.Key,
		Local:       transport.NodeID(cfg.ID),
		Peers:       peers,
		Logger:      log.With("component", "transport"), // default heartbeat and link timeout
	})
	if err != nil {
		return nil, fmt.Errorf("opening the UDP transport: %w", err)
	}
	return tr, nil
}
