package transport

import (
	"encoding/binary"
	"time"
)

// heartbeatLoop pings every (peer, link) each interval and logs link state
// changes. Liveness itself is recorded by the receive path: any
// authenticated datagram from the peer on a link keeps that link up, so a
// link that carried traffic from the peer during the last interval is not
// pinged (the peer pings us when it has not heard us, and we answer), except
// once a second to keep the round-trip time fresh. On a busy or token-carrying
// link that halves the heartbeat traffic or better.
func (u *UDP) heartbeatLoop() {
	defer u.wg.Done()
	t := time.NewTicker(u.interval)
	defer t.Stop()
	for {
		u.heartbeat()
		select {
		case <-u.done:
			return
		case <-t.C:
		}
	}
}

// rttRefresh is the longest a link goes without a ping of our own, so that
// its round-trip time stays current.
const rttRefresh = time.Second

func (u *UDP) heartbeat() {
	var body [pingLen]byte
	now := u.now()
	binary.BigEndian.PutUint64(body[:], uint64(now))
	for _, p := range u.peerList {
		for _, pl := range p.links {
			if pl == nil {
				continue
			}
			heardRecently := time.Duration(now-pl.lastHeard.Load()) < u.interval
			if !heardRecently || time.Duration(now-pl.lastPing) >= rttRefresh {
				u.sendControl(pl, kindPing, body[:])
				pl.lastPing = now
			}
			up := u.up(pl, now)
			if up != pl.wasUp {
				pl.wasUp = up
				if up {
					u.log.Info("link up", "peer", uint32(p.id), "link", pl.link, "remote", pl.remote.String())
				} else {
					u.log.Warn("link down", "peer", uint32(p.id), "link", pl.link, "remote", pl.remote.String(),
						"reason", "silent", "timeout", u.timeout)
				}
			}
		}
	}
}
